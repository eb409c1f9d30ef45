"""What runs at commit: the subscribers of postmortems/commit.py, in their stated order."""

from sqlalchemy import event, select

from models import DataVersion, FigureVersion, IncidentStatus, SearchDocument
from postmortems import commit
from postmortems.db import session_factories
from tests.factories import make_incident, utc


def test_the_subscribers_run_in_the_stated_order():
    assert [s.name for s in commit.SUBSCRIBERS] == [
        "search index",
        "figure months",
        "data version",
    ]


def test_every_session_factory_has_the_pipeline_hooked_once(app):
    for factory in session_factories(app):
        assert event.contains(factory, "before_commit", commit._before_commit)
        assert event.contains(factory, "after_flush", commit._after_flush)


def test_one_commit_indexes_moves_the_month_and_the_data_version(db):
    version_before = db.scalar(select(DataVersion.number))
    incident = make_incident("Queue stalled", utc(2024, 3, 5), status=IncidentStatus.PUBLISHED)
    db.commit()
    assert db.scalar(
        select(SearchDocument.id).where(
            SearchDocument.kind == "incident", SearchDocument.object_id == incident.id
        )
    )
    assert db.scalar(select(FigureVersion.number).where(FigureVersion.scope == "2024-03"))
    assert db.scalar(select(DataVersion.number)) == version_before + 1


def test_a_rollback_forgets_what_every_subscriber_noted(db):
    version_before = db.scalar(select(DataVersion.number))
    make_incident("Never saved", utc(2023, 7, 1))
    db.flush()
    db.rollback()
    db.commit()  # nothing pending: no subscriber writes
    assert db.scalar(select(DataVersion.number)) == version_before
    assert db.scalar(select(FigureVersion.number).where(FigureVersion.scope == "2023-07")) is None
