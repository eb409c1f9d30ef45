"""The search index follows every insert, update and delete, through the services and pages;
`flask search reindex` and migration 0010 make it from stored rows."""

from alembic import command
from sqlalchemy import create_engine, select, text

from models import ActionType, GuardKind, IncidentStatus, Lesson, LessonGroup, SearchDocument
from postmortems.guards.service import GuardValues, update_guard
from postmortems.incidents.parts import ActionItemValues, LessonValues, delete_part, save_part
from postmortems.incidents.service import IncidentValues, delete_incident, update_incident
from postmortems.search.service import search
from tests.factories import make_guard, make_incident, utc

PUBLISHED = IncidentStatus.PUBLISHED


def found(admin, query: str) -> set[str]:
    return {f"{h.kind}:{h.incident_key or h.object_id}" for h in search(admin, query + " ").hits}


def test_an_edited_postmortem_is_found_by_its_new_words_only(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    db.commit()
    assert found(admin, "queue") == {f"incident:{incident.key}"}
    values = IncidentValues(title="Bucket emptied", started_at=incident.started_at)
    update_incident(incident, values, editor=None, record=False)
    db.commit()
    assert found(admin, "queue") == set()
    assert found(admin, "bucket") == {f"incident:{incident.key}"}


def test_a_tag_added_later_is_found(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    db.commit()
    values = IncidentValues(title=incident.title, started_at=incident.started_at, tags=("kafka",))
    update_incident(incident, values, editor=None, record=False)
    db.commit()
    assert found(admin, "kafka") == {f"incident:{incident.key}"}


def test_parts_added_changed_and_removed_are_followed(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    lesson = save_part(incident, LessonValues(LessonGroup.TECHNICAL, "Watch the consumers"))
    db.commit()
    assert found(admin, "consumers") == {f"lesson:{incident.key}"}
    save_part(incident, LessonValues(LessonGroup.TECHNICAL, "Watch the producers"), lesson)
    db.commit()
    assert found(admin, "consumers") == set()
    assert found(admin, "producers") == {f"lesson:{incident.key}"}
    delete_part(incident, db.get(Lesson, lesson.id))
    db.commit()
    assert found(admin, "producers") == set()


def test_a_deleted_postmortem_leaves_nothing_in_the_index(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    save_part(incident, LessonValues(LessonGroup.TECHNICAL, "Watch queues"))
    save_part(
        incident, ActionItemValues("Queue alert", LessonGroup.TECHNICAL, ActionType.DETECTIVE)
    )
    db.commit()
    assert len(found(admin, "queue")) == 3
    delete_incident(incident)
    db.commit()
    assert found(admin, "queue") == set()
    assert db.scalars(select(SearchDocument)).all() == []


def test_a_renamed_guard_check_is_found_by_its_new_name(db, admin):
    guard = make_guard("Nightly smoke test")
    db.commit()
    assert found(admin, "smoke") == {f"guard:{guard.id}"}
    update_guard(guard, GuardValues(name="Hourly canary", kind=GuardKind.MONITOR))
    db.commit()
    assert found(admin, "smoke") == set()
    assert found(admin, "canary") == {f"guard:{guard.id}"}


def test_a_rolled_back_change_leaves_the_index_as_it_was(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    db.commit()
    incident.title = "Bucket emptied"
    db.flush()
    db.rollback()
    db.commit()
    assert found(admin, "queue") == {f"incident:{incident.key}"}
    assert found(admin, "bucket") == set()


def test_filing_and_editing_through_the_pages_update_the_index(db, browser, admin):
    response = browser.submit(
        "/incidents/new",
        {
            "title": "Calibration drifted",
            "started_at": "2024-03-01T10:00",
            "severity": "SEV2",
            "lessons-0-text_md": "Recalibrate monthly",
            "lessons-0-group": "TECHNICAL",
        },
    )
    assert response.status_code == 302
    incident_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert {h.kind for h in search(admin, "calibration ").hits} == {"incident"}
    assert {h.kind for h in search(admin, "recalibrate ").hits} == {"lesson"}
    browser.submit(
        f"/incidents/{incident_id}/edit",
        {"title": "Thresholds drifted", "started_at": "2024-03-01T10:00", "severity": "SEV2"},
    )
    assert search(admin, "calibration ").hits == []
    assert {h.kind for h in search(admin, "threshold ").hits} == {"incident"}


def test_flask_search_reindex_rebuilds_the_whole_index(db, admin, runner):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    make_guard("Queue monitor")
    db.commit()
    db.execute(text("DELETE FROM search_document"))
    db.commit()
    assert found(admin, "queue") == set()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents." in result.output
    db.expire_all()
    assert found(admin, "queue") == {f"incident:{incident.key}", "guard:1"}


def test_migration_0010_indexes_the_postmortems_already_stored(database_url, app, admin):
    from postmortems.cli import alembic_config

    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incident (key, title, summary, severity, status, affected_system, "
                "environment, started_at, started_is_estimated, detected_is_estimated, "
                "mitigated_is_estimated, resolved_is_estimated, what_happened_md, analysis_md, "
                "detection_md, response_md, went_well_md, got_lucky_md, is_near_miss, "
                "exclude_from_metrics, created_at, updated_at, version, owner_name, "
                "is_restricted) VALUES ('PM-2020-001', 'Порог бинаризации', '', 'SEV3', "
                "'PUBLISHED', '', '', '2020-08-17 09:30:00', false, false, false, false, "
                "'Модель вернула ошибки', '', '', '', '', '', false, false, "
                "'2020-08-17 09:30:00', '2020-08-17 09:30:00', 1, '', false)"
            )
        )
    engine.dispose()
    command.upgrade(config, "head")
    with app.app_context():
        assert {h.incident_key for h in search(admin, "ошибку ").hits} == {"PM-2020-001"}


def test_a_timeline_event_is_indexed_with_its_postmortem(db, admin):
    from models import TimelineEvent

    incident = make_incident("Queue stalled", status=PUBLISHED)
    db.commit()
    incident.timeline.append(TimelineEvent(at=utc(2024, 3, 1, 11), text_md="Pager fired"))
    db.commit()
    assert found(admin, "pager") == {f"incident:{incident.key}"}


def test_a_bulk_delete_through_the_session_leaves_no_stale_rows(db, admin):
    from sqlalchemy import delete

    from models import Incident

    old = make_incident("Queue stalled", status=PUBLISHED)
    save_part(old, LessonValues(LessonGroup.TECHNICAL, "Watch queues"))
    db.commit()
    db.execute(delete(Incident))
    db.commit()
    db.expunge_all()
    assert db.scalars(select(SearchDocument)).all() == []
    new = make_incident("Bucket emptied", status=PUBLISHED)  # may reuse the old ids
    save_part(new, LessonValues(LessonGroup.TECHNICAL, "Watch buckets"))
    db.commit()
    assert found(admin, "queue") == set()
    assert found(admin, "bucket") == {f"incident:{new.key}", f"lesson:{new.key}"}


def test_migration_0010_writes_the_documents_that_reindex_writes(database_url, db, admin):
    from postmortems.cli import alembic_config
    from postmortems.search.index import rebuild

    incident = make_incident("Queue stalled", status=PUBLISHED)
    save_part(incident, LessonValues(LessonGroup.TECHNICAL, "Ёлки: watch the queues"))
    db.commit()
    config = alembic_config(database_url)
    command.downgrade(config, "0009")
    command.upgrade(config, "head")
    engine = create_engine(database_url)
    columns = "SELECT kind, object_id, incident_id, title, body FROM search_document ORDER BY 1, 2"
    with engine.begin() as conn:
        migrated = conn.execute(text(columns)).all()
        rebuild(conn)
        rebuilt = conn.execute(text(columns)).all()
    engine.dispose()
    assert migrated == rebuilt
    assert len(migrated) == 2
