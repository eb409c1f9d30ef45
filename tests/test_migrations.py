"""The schema of a real database comes only from migrations, and they agree with the models."""

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import models
from postmortems.cli import alembic_config
from postmortems.search import schema as search_schema
from tests.conftest import PostgresDatabases, postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    databases = PostgresDatabases(postgres_url())
    url = databases.create()
    yield url
    databases.drop(url)
    databases.admin.dispose()


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_name": _modelled}
            context = MigrationContext.configure(conn, opts=opts)
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()


def _modelled(name: str | None, _type: str, _parents: object) -> bool:
    """The search index's full-text structures (FTS5 table, GIN index) are not models."""
    return not (
        name
        and (
            name.startswith(search_schema.UNMODELLED_PREFIX)
            or name in search_schema.UNMODELLED_NAMES
        )
    )


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if _modelled(name, "table", None)}
    finally:
        engine.dispose()


def test_upgrade_to_head_matches_the_models(empty_database_url: str) -> None:
    command.upgrade(alembic_config(empty_database_url), "head")
    assert _differences(empty_database_url) == []


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert _tables(empty_database_url) == set()
    command.upgrade(config, "head")
    assert _tables(empty_database_url) == set(models.Base.metadata.tables)
    assert _differences(empty_database_url) == []


def test_upgrade_seeds_the_contributing_factors_of_all_four_categories(
    empty_database_url: str,
) -> None:
    command.upgrade(alembic_config(empty_database_url), "head")
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        categories = set(conn.scalars(text("SELECT DISTINCT category FROM contributing_factor")))
    engine.dispose()
    assert categories == {c.name for c in models.CauseCategory}


def test_upgrade_keeps_existing_postmortems_and_fills_the_new_columns(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0001")
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incident (key, title, summary, severity, status, affected_system, "
                "environment, started_at, started_is_estimated, detected_is_estimated, "
                "mitigated_is_estimated, resolved_is_estimated, what_happened_md, analysis_md, "
                "detection_md, response_md, went_well_md, got_lucky_md, is_near_miss, "
                "exclude_from_metrics, created_at, updated_at, version) VALUES ('PM-2020-001', "
                "'Old', '', 'SEV3', 'PUBLISHED', '', '', '2020-08-17 09:30:00', false, false, "
                "false, false, '', '', '', '', '', '', false, false, '2020-08-17 09:30:00', "
                "'2020-08-17 09:30:00', 1)"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT title, owner_name, is_restricted FROM incident")).one()
    engine.dispose()
    assert (row.title, row.owner_name, bool(row.is_restricted)) == ("Old", "", False)
