"""What keeps pages fast as the data grows: a fixed number of queries per page whatever the
number of parts, the indexes the plans use, filters that bind a handful of parameters, stored
HTML, and kept figures that every write invalidates. Speed itself is measured in `make bench`."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from models import ActionType, CauseCategory, Incident, IncidentStatus, LessonGroup, Role
from postmortems.db import get_engine
from postmortems.guards.service import protected_incidents
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    LessonValues,
    TimelineEventValues,
    save_part,
)
from postmortems.incidents.rows import set_tags
from postmortems.incidents.service import IncidentFilters, list_incidents
from tests.conftest import make_user
from tests.factories import factor_named, make_guard, make_incident, make_stage, make_team, utc

PARTS_FEW, PARTS_MANY = 1, 6


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _incident_with_parts(db: Any, parts: int, title: str) -> Incident:
    guard = make_guard(f"Guard of {title}")
    incident = make_incident(title, status=IncidentStatus.PUBLISHED, what_happened_md="**x**")
    factors = [
        "Fatigue",
        "Missing tests",
        "Rules not followed",
        "Tangled code and configs",
        "No monitoring or alerts",
        "Poor documentation",
    ]
    for n in range(parts):
        save_part(incident, TimelineEventValues(utc(2024, 3, 1, 10, n), f"step {n}"))
        save_part(incident, FactorValues(factor_named(factors[n]).id, note=f"note {n}"))
        save_part(incident, LessonValues(LessonGroup.TECHNICAL, f"lesson {n}"))
        save_part(incident, _action_item(f"item {n}", guard.id))
    db.commit()
    return incident


def _action_item(title: str, guard_id: int) -> ActionItemValues:
    return ActionItemValues(
        title, LessonGroup.TECHNICAL, ActionType.PREVENTIVE, guard_ids=(guard_id,)
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.READER])
def test_the_postmortem_page_runs_the_same_queries_whatever_its_number_of_parts(
    app, db, role
) -> None:
    few = _incident_with_parts(db, PARTS_FEW, "few")
    many = _incident_with_parts(db, PARTS_MANY, "many")
    from tests.conftest import sign_in

    client = sign_in(app.test_client(), make_user(role))
    db.commit()
    counts = []
    for incident in (few, many):
        client.get(f"/incidents/{incident.id}")  # warm: the kept figures are read once
        with counted_queries(app) as statements:
            assert client.get(f"/incidents/{incident.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[1] <= 20, counts


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/",
        "/incidents/?category=PERSONAL",
        "/incidents/?tag=ml",
        "/guards/",
        "/taxonomy/",
        "/teams/",
    ],
)
def test_list_pages_run_the_same_queries_for_one_or_many_rows(app, db, client, url) -> None:
    counts = []
    for batch in (1, 5):
        for n in range(batch):
            incident = _incident_with_parts(db, 2, f"{url} {batch} {n}")
            set_tags(incident, ["ml", f"tag {batch} {n}"])
        db.commit()
        client.get(url)
        with counted_queries(app) as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_guard_page_shows_one_page_of_what_it_protects(app, db, client) -> None:
    guard = make_guard("Busy guard")
    for n in range(25):
        incident = make_incident(f"Protected {n}", status=IncidentStatus.PUBLISHED)
        save_part(incident, _action_item(f"item {n}", guard.id))
    db.commit()
    html = client.get(f"/guards/{guard.id}").get_data(as_text=True)
    assert "25 postmortems you can see." in html
    assert html.count("Protected ") == 20 and 'rel="next"' in html
    second = client.get(f"/guards/{guard.id}?page=2", follow_redirects=True)
    assert second.get_data(as_text=True).count("Protected ") == 5


def _plan(db: Any, stmt: Any) -> str:
    compiled = stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    return "\n".join(row[-1] for row in db.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


@pytest.fixture
def sqlite_only(app) -> None:
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")


def test_the_plans_use_the_indexes_made_for_them(sqlite_only, db) -> None:
    admin, reader = make_user(Role.ADMIN), make_user(Role.READER)
    guard = make_guard()
    drafts = IncidentFilters(status=IncidentStatus.DRAFT)
    chance = IncidentFilters(category=CauseCategory.CHANCE)
    plans = {
        "list": _plan(db, list_incidents(admin, many=True).limit(20)),
        "reader list": _plan(db, list_incidents(reader, many=True).limit(20)),
        "tag": _plan(db, list_incidents(admin, IncidentFilters(tag="ml"))),
        "category": _plan(db, list_incidents(admin, chance)),
        "status": _plan(db, list_incidents(admin, drafts)),
        "guard": _plan(db, protected_incidents(guard, reader)),
        "guard, many": _plan(db, protected_incidents(guard, reader, many=True).limit(20)),
        "category, many": _plan(db, list_incidents(admin, chance, many=True).limit(20)),
        "reader named": _plan(db, list_incidents(reader, drafts)),
    }
    assert "USING INDEX ix_incident_started_at_id" in plans["list"]
    assert "USING INDEX ix_incident_started_at_id" in plans["reader list"]
    assert "ix_incident_tag_tag_id_incident_id" in plans["tag"]
    assert "ix_incident_factor_factor_id_incident_id" in plans["category"]
    assert "ix_incident_status" in plans["status"]
    assert "ix_action_item_guard_guard_check_id_action_item_id" in plans["guard"]
    for many in ("guard, many", "category, many"):  # along the index, each checked by EXISTS
        assert "SCAN incident USING INDEX ix_incident_started_at_id" in plans[many]
        assert "CORRELATED" in plans[many] and "TEMP B-TREE" not in plans[many]
    assert "ix_incident_access_user_id" in plans["reader named"]
    assert "ix_action_item_owner_id" in plans["reader named"]


def test_the_stage_filter_binds_a_parameter_per_growth_period_not_per_incident(db) -> None:
    team = make_team("ML", [(date(2020, 1, 1), 5), (date(2021, 1, 1), 15), (date(2022, 1, 1), 4)])
    small = make_stage("Small", 0, 10)
    make_stage("Large", 11, None)
    for n in range(300):
        make_incident(f"i{n}", utc(2020 + n % 3, 6, 1), team_id=team.id)
    db.commit()
    stmt = list_incidents(make_user(Role.ADMIN), IncidentFilters(stage_id=small.id))
    params = stmt.compile(db.get_bind()).params
    assert len(params) <= 6, params  # two periods, two bounds each (and no per-incident list)
    years = {i.started_at.year for i in db.scalars(stmt)}
    assert years == {2020, 2022} and len(db.scalars(stmt).all()) == 200


def test_the_stage_filter_follows_local_midnights(app_config) -> None:
    """A growth period starts at local midnight: 23:30 UTC on the eve is already inside it in
    a zone east of UTC."""
    from tests.conftest import new_app

    app_config["TIMEZONE"] = "Europe/Moscow"  # UTC+3
    app = new_app(app_config)
    with app.app_context():
        from postmortems.db import session

        team = make_team("ML", [(date(2020, 1, 1), 5), (date(2021, 1, 1), 15)])
        make_stage("Small", 0, 10)
        large = make_stage("Large", 11, None)
        inside = make_incident("first hour", utc(2020, 12, 31, 21, 30), team_id=team.id)
        make_incident("last hour", utc(2020, 12, 31, 20, 30), team_id=team.id)
        session.commit()
        found = session.scalars(
            list_incidents(make_user(Role.ADMIN), IncidentFilters(stage_id=large.id))
        ).all()
        assert [i.id for i in found] == [inside.id]


def test_markdown_is_stored_as_sanitised_html_when_saved(db) -> None:
    incident = make_incident(what_happened_md="**bold** <script>x</script>")
    assert incident.what_happened_html == "<p><strong>bold</strong> </p>"


def test_the_render_command_fills_html_of_rows_loaded_in_bulk(app, db, runner) -> None:
    incident = make_incident(what_happened_md="*old*")
    db.commit()
    db.execute(text("UPDATE incident SET what_happened_md = '*bulk*', what_happened_html = NULL"))
    db.commit()
    result = runner.invoke(args=["markdown", "render"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.get(Incident, incident.id).what_happened_html == "<p><em>bulk</em></p>"


def test_a_count_kept_for_a_page_changes_with_the_next_write(browser, db, client) -> None:
    incident = make_incident(status=IncidentStatus.PUBLISHED)
    db.commit()
    fatigue = factor_named("Fatigue")
    url = f"/incidents/?factor={fatigue.id}"
    client.get(url)  # the count of the filtered list is kept
    before = client.get("/taxonomy/").get_data(as_text=True)
    browser.submit(f"/incidents/{incident.id}/factors/new", {"factor_id": str(fatigue.id)})
    after = client.get("/taxonomy/").get_data(as_text=True)
    link = f'href="/incidents/?factor={fatigue.id}&amp;metrics=1"'
    assert f'{link} data-count="0">0 incidents' in before
    assert f'{link} data-count="1">1 incident<' in after
    assert "1 postmortem." in client.get(url).get_data(as_text=True)


def test_signing_in_keeps_the_kept_figures_and_a_real_change_moves_them(db) -> None:
    from models import DataVersion, User
    from postmortems.auth.service import record_failure

    def version() -> int:
        return db.scalar(select(DataVersion.number))

    before = version()
    record_failure("someone@example.com", "10.0.0.1")  # bookkeeping: figures stay good
    db.commit()
    assert version() == before
    db.add(User(email="new@example.com", password_hash="!"))
    db.commit()
    assert version() == before + 1
