"""Guard runs and guard health through the API: the one curl line a CI job needs, and
`flask guards check`'s report as JSON. Every answer is checked against the OpenAPI document."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import ActionItem, ActionStatus, ActionType, GuardRun, LessonGroup, Role, RunStatus
from tests.api.helpers import Api, user_with_token
from tests.factories import make_guard, make_incident, utc


@pytest.fixture
def ci(app, db):
    """A reviewer's token, as a CI job would hold it, and a guard check to report on."""
    guard = make_guard("Result unchanged test")
    user, token = user_with_token(Role.REVIEWER)
    return Api(app, token), guard, user


def test_a_ci_job_reports_a_passing_run(ci, db) -> None:
    api, guard, user = ci
    body = {"status": "pass", "url": "https://ci.example.com/jobs/42"}
    response = api.post(f"/api/v1/guards/{guard.id}/runs", body)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/guards/{guard.id}"
    answer = response.get_json()
    assert (answer["status"], answer["state"], answer["reported_by"]) == (
        "PASS",
        "HEALTHY",
        user.email,
    )
    run = db.scalar(select(GuardRun))
    assert (run.status, run.url, run.reported_by_id) == (RunStatus.PASS, body["url"], user.id)
    assert api.get(f"/api/v1/guards/{guard.id}").get_json()["state"] == "HEALTHY"


def test_a_failing_run_shows_in_the_health_report(ci, db) -> None:
    api, guard, _ = ci
    ran_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"status": "fail", "ran_at": ran_at, "details": "AUC 0.53"}
    assert api.post(f"/api/v1/guards/{guard.id}/runs", body).get_json()["state"] == "FAILING"
    health = api.get("/api/v1/guards/health").get_json()
    assert health["clean"] is False
    assert [row["name"] for row in health["failing"]] == ["Result unchanged test"]


def test_health_lists_overdue_action_items_of_visible_postmortems_only(ci, db) -> None:
    api, _, _ = ci
    incident = make_incident("Overdue follow-up", utc(2024, 1, 1))
    incident.action_items.append(
        ActionItem(
            title="Rename the config key",
            group=LessonGroup.TECHNICAL,
            type=ActionType.CORRECTIVE,
            status=ActionStatus.OPEN,
            due_on=date(2024, 2, 1),
        )
    )
    db.commit()
    health = api.get("/api/v1/guards/health").get_json()  # a draft not naming the reviewer
    assert health["overdue_action_items_total"] == 0
    admin = Api(api.client.application, user_with_token(Role.ADMIN)[1])
    items = admin.get("/api/v1/guards/health").get_json()["overdue_action_items"]
    assert [(i["title"], i["postmortem"]) for i in items] == [
        ("Rename the config key", incident.key)
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "passed"}, "status"),
        ({}, "status"),
        ({"status": "pass", "ran_at": "2026-11-20T10:00:00"}, "ran_at"),
        ({"status": "pass", "ran_at": "2999-01-01T00:00:00Z"}, "ran_at"),
        ({"status": "pass", "url": "javascript:alert(1)"}, "url"),
        ({"status": "pass", "by": "me"}, "by"),
    ],
)
def test_a_wrong_run_is_refused_by_field_and_not_stored(ci, db, body, field) -> None:
    api, guard, _ = ci
    response = api.post(f"/api/v1/guards/{guard.id}/runs", body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"], response.get_json()
    assert db.scalar(select(GuardRun)) is None


def test_an_unknown_guard_is_404(ci) -> None:
    api, _, _ = ci
    assert api.post("/api/v1/guards/99999/runs", {"status": "pass"}).status_code == 404


@pytest.mark.parametrize("role", [Role.READER, Role.AUTHOR])
def test_only_reviewers_and_admins_report_runs(app, db, role) -> None:
    guard = make_guard()
    api = Api(app, user_with_token(role)[1])
    assert api.post(f"/api/v1/guards/{guard.id}/runs", {"status": "pass"}).status_code == 403
    assert db.scalar(select(GuardRun)) is None


def test_a_run_needs_a_token_not_a_cookie(app, db, client) -> None:
    guard = make_guard()
    db.commit()
    response = client.post(f"/api/v1/guards/{guard.id}/runs", json={"status": "pass"})
    assert response.status_code == 401
    assert db.scalar(select(GuardRun)) is None
