"""Report figures are kept per month of incidents (reports/piece_store.py) and every write that
changes one moves its month's version (reports/versions.py): the next report shows it."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    FigureVersion,
    ImpactEstimate,
    ImpactKind,
    IncidentFactor,
    LessonGroup,
)
from postmortems.incidents.service import delete_incident
from tests.factories import factor_named, make_guard, make_incident, utc

TREND = "/reports/trends.json?from=2024-01-01&to=2024-12-31"


def trend(client: Any) -> dict[str, Any]:
    response = client.get(TREND)
    assert response.status_code == 200
    data = dict(response.get_json())
    data.pop("computed_at")
    return data


def quarter(data: dict[str, Any], label: str) -> dict[str, Any]:
    return next(q for q in data["quarters"] if q["quarter"] == label)


def versions(db: Any) -> dict[str, int]:
    return {row.scope: row.number for row in db.scalars(select(FigureVersion))}


@pytest.fixture
def incidents(db) -> list[Any]:
    made = [
        make_incident("March", started_at=utc(2024, 3, 5, 10)),
        make_incident("August", started_at=utc(2024, 8, 5, 10), resolved_at=utc(2024, 8, 5, 12)),
    ]
    db.commit()
    return made


def test_moving_an_incident_to_another_quarter_moves_both_quarters(client, db, incidents) -> None:
    before = trend(client)
    assert quarter(before, "2024Q1")["incidents"] == 1
    incidents[0].started_at = utc(2024, 11, 1, 9)
    db.commit()
    after = trend(client)
    assert quarter(after, "2024Q1")["incidents"] == 0
    assert quarter(after, "2024Q4")["incidents"] == 1
    assert after["overall"]["incidents"] == 2


def test_a_factor_added_through_the_page_shows_in_the_next_report(
    browser, client, db, incidents
) -> None:
    assert quarter(trend(client), "2024Q3")["by_category"]["PERSONAL"] == 0
    fatigue = factor_named("Fatigue")
    browser.submit(f"/incidents/{incidents[1].id}/factors/new", {"factor_id": str(fatigue.id)})
    assert quarter(trend(client), "2024Q3")["by_category"]["PERSONAL"] == 1


def test_moving_a_factor_to_another_category_moves_every_month(
    browser, client, db, incidents
) -> None:
    fatigue = factor_named("Fatigue")
    for incident in incidents:
        db.add(IncidentFactor(incident_id=incident.id, factor_id=fatigue.id))
    db.commit()
    assert trend(client)["overall"]["by_category"]["PERSONAL"] == 2
    browser.submit_filled(f"/taxonomy/factors/{fatigue.id}/edit", {"category": "CHANCE"})
    db.expire_all()
    assert fatigue.category == CauseCategory.CHANCE
    by_category = trend(client)["overall"]["by_category"]
    assert by_category["PERSONAL"] == 0 and by_category["CHANCE"] == 2


def test_impacts_action_items_and_guards_show_in_the_next_report(client, db, incidents) -> None:
    august = incidents[1]
    assert trend(client)["overall"]["impacts"] == []
    db.add(
        ImpactEstimate(
            incident_id=august.id, kind=ImpactKind.DIRECT_COST, currency="EUR", likely=Decimal(12)
        )
    )
    item = ActionItem(
        incident_id=august.id,
        title="Add a test",
        group=LessonGroup.TECHNICAL,
        type=ActionType.PREVENTIVE,
        due_on=date(2024, 9, 1),
    )
    db.add(item)
    db.commit()
    overall = trend(client)["overall"]
    assert overall["impacts"][0]["likely_apart"] == "12.00"  # no full range: kept apart
    actions = overall["action_items"]
    assert actions["total"] == 1 and actions["overdue"] == 1 and actions["preventive_guarded"] == 0
    guard = make_guard()
    guard.action_items.append(item)  # linked from the guard's side
    db.commit()
    assert trend(client)["overall"]["action_items"]["preventive_guarded"] == 1
    item.status, item.completed_on = ActionStatus.DONE, date(2024, 8, 15)
    db.commit()
    actions = trend(client)["overall"]["action_items"]
    assert actions["done"] == 1 and actions["overdue"] == 0
    assert actions["days_to_done"] == {"n": 1, "median_days": 10, "p90_days": 10}
    db.delete(guard)
    db.commit()
    assert trend(client)["overall"]["action_items"]["preventive_guarded"] == 0


def test_removing_an_incident_clears_the_recurrences_of_it(client, db, incidents) -> None:
    incidents[1].recurrence_of_id = incidents[0].id
    db.commit()
    assert trend(client)["overall"]["recurrences"] == 1
    delete_incident(incidents[0])
    db.commit()
    overall = trend(client)["overall"]
    assert overall["incidents"] == 1 and overall["recurrences"] == 0


def test_a_change_moves_only_its_months_and_bookkeeping_moves_none(client, db, incidents) -> None:
    trend(client)
    before = versions(db)
    incidents[1].title = "August, renamed"
    db.commit()
    after = versions(db)
    assert after["2024-08"] == before["2024-08"] + 1
    assert after["2024-03"] == before["2024-03"]
    assert after.get("*", 0) == before.get("*", 0)
    guard = make_guard("Nightly")
    guard.location = "ci"
    db.commit()
    assert versions(db) == after  # a guard check with no action items moves no figure


def test_figures_kept_between_writes_are_reused_and_match_a_fresh_computation(
    app, client, db, incidents
) -> None:
    first = trend(client)
    assert app.extensions["figure_pieces"]
    kept = dict(app.extensions["figure_pieces"])
    incidents[0].severity = incidents[0].severity  # no change: nothing moves
    db.commit()
    assert trend(client) == first
    incidents[1].is_near_miss = True
    db.commit()
    changed = trend(client)
    assert changed["overall"]["near_misses"] == 1
    assert set(app.extensions["figure_pieces"]) > set(kept)  # August was computed again
    app.extensions["figure_pieces"].clear()
    app.extensions["figure_cache"].clear()
    assert trend(client) == changed


def test_the_quarterly_review_lists_its_postmortems_a_page_at_a_time(client, db) -> None:
    for n in range(101):
        make_incident(f"Incident {n:03d}", started_at=utc(2024, 4, 1 + n // 24, n % 24))
    db.commit()
    first = client.get("/reports/quarterly/2024Q2").get_data(as_text=True)
    assert "Incident 000" in first and "Incident 099" in first and "Incident 100" not in first
    assert "Page 1 of 2 (101 postmortems)" in first and "page=2" in first
    second = client.get("/reports/quarterly/2024Q2?page=2").get_data(as_text=True)
    assert "Incident 100" in second and "Incident 099" not in second
    data = client.get("/reports/quarterly/2024Q2.json?page=2").get_json()
    assert (data["page"], data["pages"], data["postmortems_shown"]) == (2, 2, 101)
    assert [p["title"] for p in data["postmortems"]] == ["Incident 100"]
    assert data["this_quarter"]["incidents"] == 101
    assert client.get("/reports/quarterly/2024Q2.json?page=9").get_json()["page"] == 2
    markdown = client.get("/reports/quarterly/2024Q2.md").get_data(as_text=True)
    assert "Incident 000" in markdown and "Incident 100" in markdown
    for bad in ("0", "x", "-1", "99999999999"):
        assert client.get(f"/reports/quarterly/2024Q2?page={bad}").status_code == 400, bad


def test_a_part_whose_incident_is_not_loaded_moves_every_month(db, incidents) -> None:
    db.add(IncidentFactor(incident_id=incidents[1].id, factor_id=factor_named("Fatigue").id))
    db.commit()  # expires every loaded row
    before = versions(db)
    link = db.scalars(select(IncidentFactor)).one()
    db.expire(link)
    db.delete(link)
    db.commit()
    after = versions(db)
    assert after.get("*", 0) == before.get("*", 0) + 1 or after["2024-08"] == before["2024-08"] + 1
