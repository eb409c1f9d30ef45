"""An action item's completion and won't-do decision dates lie between the incident's start and
today (in the team's zone), whichever side changes: the item's form, the API, `flask import`,
or a move of the incident's start."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import ActionItem, ActionStatus, ActionType, LessonGroup, Role
from postmortems.incidents.parts import ActionItemValues, save_part
from tests.api.helpers import Api, user_with_token
from tests.conftest import field_errors
from tests.factories import make_incident, utc

ACTION = {
    "title": "Add a smoke test",
    "group": "TECHNICAL",
    "type": "PREVENTIVE",
    "owner": "Ana",
    "due_on": "2024-04-01",
}


@pytest.fixture
def incident(db):
    incident = make_incident("Cache poisoned", utc(2024, 3, 1, 10))
    db.commit()
    return incident


@pytest.fixture
def done_item(db, incident):
    """A done item completed on 2024-03-05, four days after the start."""
    values = ActionItemValues(
        "Add a smoke test",
        LessonGroup.TECHNICAL,
        ActionType.PREVENTIVE,
        status=ActionStatus.DONE,
        completed_on=date(2024, 3, 5),
    )
    item = save_part(incident, values)
    db.commit()
    return item


def tomorrow(app) -> date:
    from postmortems.timezones import local_today

    with app.app_context():
        return local_today() + timedelta(days=1)


def action_url(incident) -> str:
    return f"/incidents/{incident.id}/actions/new"


# Completion in the future.


def test_the_form_refuses_a_completion_in_the_future(app, browser, db, incident) -> None:
    typed = {**ACTION, "status": "DONE", "completed_on": tomorrow(app).isoformat()}
    html = browser.submit(action_url(incident), typed).get_data(as_text=True)
    assert field_errors(html, "completed_on") == ["Cannot be after today."]
    assert db.scalars(select(ActionItem)).all() == []


def test_the_api_refuses_a_completion_in_the_future(app, db) -> None:
    _, token = user_with_token(Role.AUTHOR)
    item = {**ACTION, "status": "DONE", "completed_on": tomorrow(app).isoformat()}
    body = {"title": "Sent", "started_at": "2024-03-01T10:00:00Z", "action_items": [item]}
    response = Api(app, token).post("/api/v1/postmortems", body)
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "action_items.0.completed_on": ["Cannot be after today."]
    }


def import_file(item_fields: str, started_at: str = "2024-03-01T10:00:00Z") -> str:
    return f"""---
format: 1
key: PM-2024-009
title: Imported
started_at: '{started_at}'
action_items:
- title: Add a smoke test
  group: TECHNICAL
  type: PREVENTIVE
{item_fields}---
"""


def run_import(runner, tmp_path, text: str):
    folder = tmp_path / "in" / "postmortems"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PM-2024-009.md").write_text(text)
    return runner.invoke(args=["import", str(tmp_path / "in")])


def test_flask_import_refuses_a_completion_in_the_future(app, runner, db, tmp_path) -> None:
    fields = f"  status: DONE\n  completed_on: '{tomorrow(app).isoformat()}'\n"
    result = run_import(runner, tmp_path, import_file(fields))
    assert result.exit_code == 1
    expected = "postmortems/PM-2024-009.md:7: refused: completed_on: Cannot be after today."
    assert expected in result.output, result.output
    assert db.scalars(select(ActionItem)).all() == []


# The incident's start moved past a completion.


def test_the_edit_form_refuses_a_start_after_a_completion(browser, db, incident, done_item):
    url = f"/incidents/{incident.id}/edit"
    html = browser.submit_filled(url, {"started_at": "2024-03-10T10:00"}).get_data(as_text=True)
    assert field_errors(html, "started_at") == [
        "The action item “Add a smoke test” was completed on 2024-03-05, before this start."
    ]
    db.expire_all()
    assert db.get(type(incident), incident.id).started_at == utc(2024, 3, 1, 10)


def test_an_api_patch_refuses_a_start_after_a_completion(app, db, incident, done_item) -> None:
    user, token = user_with_token(Role.ADMIN)
    api = Api(app, token)
    version = api.get(f"/api/v1/postmortems/{incident.key}").get_json()["version"]
    change = {"version": version, "started_at": "2024-03-10T10:00:00Z"}
    response = api.patch(f"/api/v1/postmortems/{incident.key}", change)
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "started_at": [
            "The action item “Add a smoke test” was completed on 2024-03-05, before this start."
        ]
    }


def test_flask_import_refuses_a_start_moved_after_a_completion(runner, db, tmp_path) -> None:
    fields = "  status: DONE\n  completed_on: '2024-03-05'\n"
    assert run_import(runner, tmp_path, import_file(fields)).exit_code == 0
    moved = import_file(fields, started_at="2024-03-10T10:00:00Z")
    result = run_import(runner, tmp_path, moved)
    assert result.exit_code == 1
    expected = (
        "postmortems/PM-2024-009.md:7: refused: completed_on: "
        "Cannot be before the incident started (2024-03-10)."
    )
    assert expected in result.output, result.output


def test_flask_import_moves_a_start_and_its_completions_together(runner, db, tmp_path) -> None:
    fields = "  status: DONE\n  completed_on: '2024-03-05'\n"
    assert run_import(runner, tmp_path, import_file(fields)).exit_code == 0
    later = "  status: DONE\n  completed_on: '2024-03-12'\n"
    result = run_import(runner, tmp_path, import_file(later, started_at="2024-03-10T10:00:00Z"))
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.scalars(select(ActionItem.completed_on)).one() == date(2024, 3, 12)


# The won't-do decision date.


def test_a_wont_do_decision_keeps_its_date(browser, db, incident) -> None:
    typed = {**ACTION, "status": "WONT_DO", "wont_do_reason": "Too big", "decided_on": "2024-03-04"}
    browser.submit(action_url(incident), typed, follow=True)
    item = db.scalars(select(ActionItem)).one()
    assert (item.status, item.decided_on, item.completed_on) == (
        ActionStatus.WONT_DO,
        date(2024, 3, 4),
        None,
    )


def test_a_wont_do_decision_without_a_date_is_decided_today(app, browser, db, incident) -> None:
    typed = {**ACTION, "status": "WONT_DO", "wont_do_reason": "Too big"}
    browser.submit(action_url(incident), typed)
    item = db.scalars(select(ActionItem)).one()
    assert item.decided_on == tomorrow(app) - timedelta(days=1)


def test_the_form_refuses_a_decision_in_the_future(app, browser, db, incident) -> None:
    typed = {
        **ACTION,
        "status": "WONT_DO",
        "wont_do_reason": "Too big",
        "decided_on": tomorrow(app).isoformat(),
    }
    html = browser.submit(action_url(incident), typed).get_data(as_text=True)
    assert field_errors(html, "decided_on") == ["Cannot be after today."]


def test_the_form_refuses_a_decision_before_the_start(browser, db, incident) -> None:
    typed = {**ACTION, "status": "WONT_DO", "wont_do_reason": "Too big", "decided_on": "2024-02-01"}
    html = browser.submit(action_url(incident), typed).get_data(as_text=True)
    assert field_errors(html, "decided_on") == [
        "Cannot be before the incident started (2024-03-01)."
    ]


def test_an_api_patch_refuses_a_start_after_a_decision(app, db, incident) -> None:
    values = ActionItemValues(
        "Rewrite billing",
        LessonGroup.TECHNICAL,
        ActionType.CORRECTIVE,
        status=ActionStatus.WONT_DO,
        wont_do_reason="Too big",
        decided_on=date(2024, 3, 5),
    )
    save_part(incident, values)
    db.commit()
    _, token = user_with_token(Role.ADMIN)
    api = Api(app, token)
    version = api.get(f"/api/v1/postmortems/{incident.key}").get_json()["version"]
    change = {"version": version, "started_at": "2024-03-10T10:00:00Z"}
    response = api.patch(f"/api/v1/postmortems/{incident.key}", change)
    assert response.get_json()["fields"] == {
        "started_at": [
            "The action item “Rewrite billing” was decided won't do on 2024-03-05, "
            "before this start."
        ]
    }


def test_the_api_files_and_reads_back_a_decision_date(app, db) -> None:
    _, token = user_with_token(Role.AUTHOR)
    item = {**ACTION, "status": "WONT_DO", "wont_do_reason": "Too big", "decided_on": "2024-03-04"}
    body = {"title": "Sent", "started_at": "2024-03-01T10:00:00Z", "action_items": [item]}
    api = Api(app, token)
    key = api.post("/api/v1/postmortems", body).get_json()["key"]
    read = api.get(f"/api/v1/postmortems/{key}").get_json()
    assert read["action_items"][0]["decided_on"] == "2024-03-04"


def test_flask_import_reads_a_decision_date(runner, db, tmp_path) -> None:
    fields = "  status: WONT_DO\n  wont_do_reason: Too big\n  decided_on: '2024-03-04'\n"
    result = run_import(runner, tmp_path, import_file(fields))
    assert result.exit_code == 0, result.output
    assert db.scalars(select(ActionItem.decided_on)).one() == date(2024, 3, 4)


# What the quarterly review makes of won't-do decisions.


def wont_do(incident, title: str, decided_on: date | None) -> None:
    values = ActionItemValues(
        title,
        LessonGroup.TECHNICAL,
        ActionType.CORRECTIVE,
        status=ActionStatus.WONT_DO,
        wont_do_reason="Too big",
        decided_on=decided_on,
    )
    item = save_part(incident, values)
    item.decided_on = decided_on  # as migration 0017 left the items decided before it


def test_the_quarterly_review_closes_a_wont_do_item_in_the_quarter_it_was_decided(
    client, db, incident
) -> None:
    wont_do(incident, "Rewrite billing", date(2024, 4, 2))
    db.commit()
    closed = {
        quarter: client.get(f"/reports/quarterly/{quarter}.json").get_json()[
            "action_items_at_quarter_end"
        ]["closed"]
        for quarter in ("2024Q1", "2024Q2")
    }
    assert closed == {"2024Q1": 0, "2024Q2": 1}


def test_the_quarterly_review_closes_a_wont_do_item_of_unknown_day_when_its_incident_began(
    client, db, incident
) -> None:
    # The one rule (figures.closed_on): no decision day, no completion day -> the incident's
    # local start day stands for it, so "closed" is never below done + won't do.
    wont_do(incident, "Rewrite billing", None)
    db.commit()
    data = client.get("/reports/quarterly/2024Q1.json").get_json()  # began 2024-03-01
    assert data["action_items_at_quarter_end"]["closed"] == 1
    assert data["action_items_at_quarter_end"]["opened"] == 1
    assert data["this_quarter"]["action_items"]["wont_do"] == 1
