"""Rules that live in the services: the forms, the demo and (later) the API all meet them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import ActionItem, GuardCheck, ImpactEstimate, ImpactKind, Role
from postmortems.domain import DomainError
from postmortems.incidents.parts import ImpactValues, save_part
from postmortems.incidents.service import IncidentValues, create_incident
from tests.conftest import admin_client, field_errors, make_user, new_app
from tests.factories import make_incident, utc

FILING = {"title": "Queue stalled", "started_at": "2024-03-01T10:00", "severity": "SEV3"}


@pytest.mark.parametrize("typed", ["9999-12-31T23:59", "0001-01-01T00:00", "1969-12-31T23:59"])
def test_a_start_outside_1970_to_2100_is_refused_beside_the_field(browser, db, typed) -> None:
    html = browser.submit("/incidents/new", {**FILING, "started_at": typed}).get_data(as_text=True)
    assert field_errors(html, "started_at") == ["Choose a time from 1970 to 2100."]
    assert f'value="{typed}"' in html  # what was typed is kept


def test_the_service_refuses_an_out_of_range_time_without_any_form(db) -> None:
    values = IncidentValues(title="Far future", started_at=datetime(2150, 1, 1, tzinfo=UTC))
    with pytest.raises(DomainError) as refused:
        create_incident(values, author=None)
    assert list(refused.value.fields) == ["started_at"]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_latest_storable_start_shows_in_any_zone(app_config, zone) -> None:
    app = new_app(app_config)
    with app.app_context():
        make_incident("Edge of time", datetime(2100, 12, 31, 23, 59, tzinfo=UTC))
        from postmortems.db import session

        session.commit()
    app_config["TIMEZONE"] = zone
    client = admin_client(new_app(app_config))
    assert client.get("/incidents/").status_code == 200
    assert client.get("/incidents/1").status_code == 200


def test_negative_money_is_refused_beside_the_field(browser, db) -> None:
    incident = make_incident()
    db.commit()
    html = browser.submit(
        f"/incidents/{incident.id}/impacts/new",
        {"kind": "LOST_REVENUE", "low": "-10", "likely": "5", "high": "20", "currency": "EUR"},
    ).get_data(as_text=True)
    assert field_errors(html, "low") == ["Cannot be negative: an estimate of harm is zero or more."]
    assert db.scalars(select(ImpactEstimate)).all() == []


def test_a_negative_quantity_is_refused_by_the_service(db) -> None:
    incident = make_incident()
    values = ImpactValues(kind=ImpactKind.DOWNTIME, likely=Decimal("-2"), unit="hours")
    with pytest.raises(DomainError) as refused:
        save_part(incident, values)
    assert "likely" in refused.value.fields


def test_the_owner_chosen_on_an_action_item_is_kept_and_given_to_its_new_guard(browser, db) -> None:
    owner = make_user(Role.AUTHOR, "owner@example.com")
    incident = make_incident()
    db.commit()
    url = f"/incidents/{incident.id}/actions/new"
    browser.submit(
        url,
        {
            "title": "Alert on drift",
            "group": "TECHNICAL",
            "type": "DETECTIVE",
            "status": "OPEN",
            "owner_id": str(owner.id),
            "new_guard_name": "Drift monitor",
        },
    )
    item = db.scalars(select(ActionItem)).one()
    assert item.owner_id == owner.id
    assert db.scalars(select(GuardCheck)).one().owner == owner.display_name
    edit = f"/incidents/{incident.id}/actions/{item.id}/edit"
    other = make_user(Role.AUTHOR, "other@example.com")
    db.commit()
    browser.submit(edit, {"title": "Alert on drift", "owner_id": str(other.id)})
    assert db.get(ActionItem, item.id).owner_id == other.id


def test_an_owner_who_does_not_exist_is_refused(browser, db) -> None:
    incident = make_incident()
    db.commit()
    html = browser.submit(
        f"/incidents/{incident.id}/edit", {**FILING, "owner_id": "424242"}
    ).get_data(as_text=True)
    assert field_errors(html, "owner_id") == ["Not a valid choice."]


def test_the_conflict_page_shows_tags_by_name_and_equal_tags_as_equal(browser, db) -> None:
    incident = make_incident("Disk filled up", tags=("disk", "ops"))
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    stale = str(incident.version)
    browser.submit(url, {**FILING, "title": "Renamed", "tags": "disk, ops", "version": stale})
    refused = browser.submit(
        url, {**FILING, "title": "Mine", "tags": "ops, disk", "version": stale}
    ).get_data(as_text=True)
    assert "object at 0x" not in refused
    conflict = refused.split('class="conflict"', 1)[1].split("</table>", 1)[0]
    assert "Tags" not in conflict and "Title" in conflict


def test_a_timeline_event_before_the_start_is_allowed(db) -> None:
    from postmortems.incidents.parts import TimelineEventValues

    incident = make_incident(started_at=utc(2024, 3, 1, 10))
    save_part(incident, TimelineEventValues(at=utc(2024, 2, 20, 9), text_md="Precursor change"))
    assert incident.timeline[0].text_md == "Precursor change"
