"""`flask guards report` and `flask guards check`, through the CLI runner."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from models import ActionItem, ActionStatus, ActionType, GuardRun, GuardStatus, LessonGroup
from tests.factories import make_guard, make_incident


def _invoke(runner, db, *args: str):
    db.commit()
    result = runner.invoke(args=list(args))
    db.expire_all()
    return result


def test_report_records_a_run(runner, db) -> None:
    guard = make_guard("Reference predictions")
    result = _invoke(
        runner,
        db,
        "guards",
        "report",
        str(guard.id),
        "--status",
        "pass",
        "--url",
        "https://ci.example.com/1",
        "--details",
        "green",
        "--ran-at",
        "2026-11-20T10:00:00Z",
    )
    assert result.exit_code == 0, result.output
    assert "Recorded a pass of “Reference predictions” at 2026-11-20 10:00" in result.output
    run = db.scalars(select(GuardRun)).one()
    assert (run.url, run.details, run.ran_at) == (
        "https://ci.example.com/1",
        "green",
        datetime(2026, 11, 20, 10, tzinfo=UTC),
    )
    assert run.reported_by_id is None


def test_report_reads_a_time_without_offset_in_the_configured_zone(app, runner, db) -> None:
    app.config["TIMEZONE"] = "Europe/Berlin"
    guard = make_guard()
    result = _invoke(
        runner,
        db,
        "guards",
        "report",
        str(guard.id),
        "--status",
        "FAIL",
        "--ran-at",
        "2026-07-01T12:00",
    )
    assert result.exit_code == 0, result.output
    assert db.scalars(select(GuardRun)).one().ran_at == datetime(2026, 7, 1, 10, tzinfo=UTC)


def test_report_without_a_time_records_now(runner, db) -> None:
    guard = make_guard()
    before = datetime.now(UTC)
    assert _invoke(runner, db, "guards", "report", str(guard.id), "--status", "pass").exit_code == 0
    assert db.scalars(select(GuardRun)).one().ran_at >= before - timedelta(seconds=1)


def test_report_refuses_an_unknown_guard(runner, db) -> None:
    result = _invoke(runner, db, "guards", "report", "999", "--status", "pass")
    assert result.exit_code == 1
    assert "No guard check with id 999." in result.output


def test_report_refuses_a_bad_url_saving_nothing(runner, db) -> None:
    guard = make_guard()
    result = _invoke(
        runner, db, "guards", "report", str(guard.id), "--status", "pass", "--url", "file:///etc"
    )
    assert result.exit_code == 1
    assert "url: Give an http:// or https:// address." in result.output
    assert db.scalars(select(GuardRun)).all() == []


def test_report_refuses_a_future_time(runner, db) -> None:
    guard = make_guard()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    result = _invoke(
        runner, db, "guards", "report", str(guard.id), "--status", "pass", "--ran-at", later
    )
    assert result.exit_code == 1 and "future" in result.output


def test_report_refuses_an_unreadable_time(runner, db) -> None:
    guard = make_guard()
    result = _invoke(
        runner, db, "guards", "report", str(guard.id), "--status", "pass", "--ran-at", "yesterday"
    )
    assert result.exit_code == 2 and "2026-11-20T10:00:00Z" in result.output


def test_report_needs_a_status_of_pass_or_fail(runner, db) -> None:
    guard = make_guard()
    result = _invoke(runner, db, "guards", "report", str(guard.id), "--status", "maybe")
    assert result.exit_code == 2


def test_check_is_clean_with_healthy_guards_and_nothing_overdue(runner, db) -> None:
    guard = make_guard()
    guard.status = GuardStatus.ACTIVE
    _invoke(runner, db, "guards", "report", str(guard.id), "--status", "pass")
    result = _invoke(runner, db, "guards", "check")
    assert result.exit_code == 0, result.output
    assert "Failing guard checks: 0" in result.output and "All clear." in result.output


def test_check_lists_failing_and_stale_guards_and_overdue_items_and_fails(runner, db) -> None:
    failing, stale, retired = make_guard("Smoke"), make_guard("Drift"), make_guard("Old")
    retired.status = GuardStatus.RETIRED
    now = datetime.now(UTC)
    db.add_all(
        [
            GuardRun(guard_check_id=failing.id, status="FAIL", ran_at=now - timedelta(hours=1)),
            GuardRun(guard_check_id=stale.id, status="PASS", ran_at=now - timedelta(days=9)),
            GuardRun(guard_check_id=retired.id, status="FAIL", ran_at=now - timedelta(hours=1)),
        ]
    )
    incident = make_incident("Queue stalled")
    incident.action_items += [
        ActionItem(
            title="Add alert",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            due_on=date(2020, 1, 1),
            owner="Ana",
        ),
        ActionItem(
            title="Done one",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            due_on=date(2020, 1, 1),
            status=ActionStatus.DONE,
        ),
    ]
    result = _invoke(runner, db, "guards", "check")
    assert result.exit_code == 1, result.output
    out = result.output
    assert "Failing guard checks: 1" in out and f"#{failing.id} Smoke" in out
    assert "Stale guard checks: 1" in out and f"#{stale.id} Drift" in out
    assert "Old" not in out
    assert "Overdue action items: 1" in out
    assert f"{incident.key}: Add alert — due 2020-01-01, Ana" in out
    assert "Done one" not in out


def test_check_says_how_many_overdue_items_it_left_out(runner, db) -> None:
    incident = make_incident()
    incident.action_items += [
        ActionItem(
            title=f"Item {n}",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            due_on=date(2020, 1, 1 + n),
        )
        for n in range(3)
    ]
    result = _invoke(runner, db, "guards", "check", "--limit", "1")
    assert "Overdue action items: 3" in result.output and "… and 2 more" in result.output
    assert "Item 0" in result.output and "Item 2" not in result.output


def test_guards_health_as_json(db) -> None:
    from postmortems.guards.health import guards_health

    guard = make_guard("Smoke")
    now = datetime.now(UTC).replace(microsecond=0)
    db.add(GuardRun(guard_check_id=guard.id, status="FAIL", ran_at=now - timedelta(hours=1)))
    incident = make_incident("Queue stalled")
    incident.action_items.append(
        ActionItem(
            title="Add alert",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            due_on=date(2020, 1, 1),
        )
    )
    db.flush()
    payload = guards_health(now).to_json()
    assert payload["clean"] is False
    assert payload["failing"] == [
        {
            "id": guard.id,
            "name": "Smoke",
            "owner": "",
            "status": "PROPOSED",
            "state": "FAILING",
            "freshness_days": 7,
            "last_run_at": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "last_pass_at": None,
        }
    ]
    assert payload["stale"] == [] and payload["never_verified"] == 0
    assert payload["overdue_action_items"] == [
        {
            "id": incident.action_items[0].id,
            "title": "Add alert",
            "owner": "",
            "due_on": "2020-01-01",
            "postmortem": incident.key,
        }
    ]
    assert payload["overdue_action_items_total"] == 1


def test_guards_health_hides_overdue_items_the_viewer_may_not_see(db) -> None:
    from models import Role
    from postmortems.guards.health import guards_health
    from tests.conftest import make_user

    incident = make_incident("Secret", is_restricted=True)
    incident.action_items.append(
        ActionItem(
            title="Hidden",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            due_on=date(2020, 1, 1),
        )
    )
    reader = make_user(Role.READER)
    db.flush()
    assert guards_health(datetime.now(UTC), reader).overdue_total == 0
    assert guards_health(datetime.now(UTC)).overdue_total == 1
