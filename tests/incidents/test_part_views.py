"""Adding, editing and removing the parts of a postmortem through their forms."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    GuardCheck,
    ImpactEstimate,
    ImpactLevel,
    IncidentFactor,
    Lesson,
    LessonGroup,
    TimelineEvent,
)
from tests.conftest import field_errors
from tests.factories import factor_named, make_guard, make_incident, utc


@pytest.fixture
def incident(db):
    incident = make_incident("Cache poisoned", utc(2024, 3, 1, 10))
    db.commit()
    return incident


def part_url(incident, name: str, part_id: int | None = None, action: str = "new") -> str:
    if part_id is None:
        return f"/incidents/{incident.id}/{name}/new"
    return f"/incidents/{incident.id}/{name}/{part_id}/{action}"


# Timeline


def test_add_a_timeline_event(browser, db, incident) -> None:
    response = browser.submit(
        part_url(incident, "timeline"),
        {"at": "2024-03-01T10:05", "text_md": "Alert *fired*"},
        follow=True,
    )
    assert "<em>fired</em>" in response.get_data(as_text=True)
    event = db.scalars(select(TimelineEvent)).one()
    assert event.at == utc(2024, 3, 1, 10, 5)


def test_a_timeline_event_needs_a_time_and_text(browser, db, incident) -> None:
    html = browser.submit(part_url(incident, "timeline"), {"at": "", "text_md": ""}).get_data(
        as_text=True
    )
    assert field_errors(html, "at") == ["When did it happen?"]
    assert field_errors(html, "text_md") == ["This field is required."]
    assert db.scalars(select(TimelineEvent)).all() == []


def test_edit_and_remove_a_timeline_event(browser, db, incident) -> None:
    browser.submit(part_url(incident, "timeline"), {"at": "2024-03-01T10:05", "text_md": "a"})
    event = db.scalars(select(TimelineEvent)).one()
    browser.submit(
        part_url(incident, "timeline", event.id, "edit"), {"at": "2024-03-01T11:00", "text_md": "b"}
    )
    db.expire_all()
    assert db.get(TimelineEvent, event.id).text_md == "b"
    browser.submit(
        f"/incidents/{incident.id}", {}, action=part_url(incident, "timeline", event.id, "delete")
    )
    db.expire_all()
    assert db.scalars(select(TimelineEvent)).all() == []


def test_a_part_of_another_incident_is_not_found(browser, db, incident) -> None:
    other = make_incident("Other")
    other.lessons.append(Lesson(group=LessonGroup.TECHNICAL, text_md="x"))
    db.commit()
    lesson = other.lessons[0]
    assert browser.get(part_url(incident, "lessons", lesson.id, "edit")).status_code == 404


# Factors


def test_name_a_primary_factor_with_a_note(browser, db, incident) -> None:
    fatigue = factor_named("Fatigue")
    response = browser.submit(
        part_url(incident, "factors"),
        {"factor_id": str(fatigue.id), "note": "Long week", "is_primary": "y"},
        follow=True,
    )
    html = response.get_data(as_text=True)
    assert "Personal factors" in html and "Fatigue" in html and "primary" in html
    named = db.scalars(select(IncidentFactor)).one()
    assert named.is_primary and named.note == "Long week"


def test_only_one_factor_stays_primary(browser, db, incident) -> None:
    for name in ("Fatigue", "Missing tests"):
        browser.submit(
            part_url(incident, "factors"),
            {"factor_id": str(factor_named(name).id), "is_primary": "y"},
        )
    db.expire_all()
    primary = [f.factor.name for f in db.scalars(select(IncidentFactor)) if f.is_primary]
    assert primary == ["Missing tests"]


def test_the_same_factor_cannot_be_named_twice(browser, db, incident) -> None:
    data = {"factor_id": str(factor_named("Fatigue").id)}
    browser.submit(part_url(incident, "factors"), data)
    html = browser.submit(part_url(incident, "factors"), data).get_data(as_text=True)
    assert field_errors(html, "factor_id") == ["This factor is already named on this postmortem."]
    assert len(db.scalars(select(IncidentFactor)).all()) == 1


def test_an_unknown_factor_is_refused(browser, incident) -> None:
    html = browser.submit(part_url(incident, "factors"), {"factor_id": "99999"}).get_data(
        as_text=True
    )
    assert field_errors(html, "factor_id") == ["Not a valid choice."]


def test_factor_id_that_is_not_a_number_is_refused(browser, incident) -> None:
    response = browser.submit(part_url(incident, "factors"), {"factor_id": "abc"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "factor_id")


# Impacts

MONEY = {
    "kind": "LOST_REVENUE",
    "low": "10000.50",
    "likely": "12345.67",
    "high": "20000",
    "currency": "rub",
    "method_note": "Finance estimate",
    "estimated_by": "CFO",
}


def test_a_money_range_keeps_its_exact_decimals_to_the_page(browser, db, incident) -> None:
    response = browser.submit(part_url(incident, "impacts"), MONEY, follow=True)
    html = response.get_data(as_text=True)
    assert "12,345.67" in html and "10,000.50" in html and "RUB" in html
    impact = db.scalars(select(ImpactEstimate)).one()
    assert (impact.low, impact.likely, impact.high) == (
        Decimal("10000.50"),
        Decimal("12345.67"),
        Decimal("20000"),
    )
    assert impact.currency == "RUB"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"low": "13000"}, "low", "Low cannot be above likely."),
        ({"high": "12000"}, "high", "High cannot be below likely."),
        (
            {"likely": "12,345.67"},
            "likely",
            "Use a point for decimals and no thousands separators (12345.67).",
        ),
        ({"likely": "lots"}, "likely", "Not a number."),
        ({"likely": "NaN"}, "likely", "Write the number out in digits (12345.67)."),
        ({"likely": "1e6"}, "likely", "Write the number out in digits (12345.67)."),
        ({"likely": "1.1234567"}, "likely", "At most 6 digits after the point."),
        ({"likely": "1" * 19}, "likely", "At most 18 digits before the point."),
        ({"likely": ""}, "likely", "Give the most likely value."),
        ({"currency": "XYZ"}, "currency", "XYZ is not an ISO 4217 currency code."),
        ({"currency": "RUBL"}, "currency", "Field cannot be longer than 3 characters."),
        ({"currency": ""}, "currency", "Give a currency (money) or a unit (anything else)."),
        ({"unit": "months"}, "unit", "Give a currency or a unit, not both."),
        ({"level": "MAJOR"}, "level", "Leave empty: this kind is measured as a number."),
        ({"kind": "BOGUS"}, "kind", "Not one of the choices."),
    ],
)
def test_bad_impact_input_is_refused_beside_the_field(
    browser, db, incident, change, field, message
) -> None:
    data = {**MONEY, **change}
    html = browser.submit(part_url(incident, "impacts"), data).get_data(as_text=True)
    assert message in field_errors(html, field)
    assert f'value="{data["likely"]}"' in html  # what was typed is kept
    assert db.scalars(select(ImpactEstimate)).all() == []


def test_a_currency_is_only_for_money(browser, incident) -> None:
    data = {"kind": "ITEMS_PROCESSED_WRONGLY", "likely": "1500", "currency": "USD"}
    html = browser.submit(part_url(incident, "impacts"), data).get_data(as_text=True)
    assert field_errors(html, "currency") == ["Only money impacts have a currency; use the unit."]


def test_a_count_with_a_unit(browser, db, incident) -> None:
    data = {"kind": "ITEMS_PROCESSED_WRONGLY", "likely": "1500", "unit": "images"}
    html = browser.submit(part_url(incident, "impacts"), data, follow=True).get_data(as_text=True)
    assert "1,500" in html and "images" in html
    assert db.scalars(select(ImpactEstimate)).one().currency is None


def test_a_qualitative_impact_takes_a_level_and_no_numbers(browser, db, incident) -> None:
    html = browser.submit(
        part_url(incident, "impacts"), {"kind": "REPUTATION", "likely": "3"}
    ).get_data(as_text=True)
    assert field_errors(html, "level") == ["Choose a level for reputation."]
    assert field_errors(html, "likely") == ["Leave empty: this kind is measured as a level."]
    browser.submit(part_url(incident, "impacts"), {"kind": "REPUTATION", "level": "MAJOR"})
    assert db.scalars(select(ImpactEstimate)).one().level is ImpactLevel.MAJOR


# Lessons


def test_lessons_are_shown_by_group(browser, incident) -> None:
    browser.submit(part_url(incident, "lessons"), {"group": "PERSONAL", "text_md": "Rest."})
    html = browser.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "<h3>Personal</h3>" in html and "Rest." in html


def test_a_lesson_needs_text_and_a_known_group(browser, db, incident) -> None:
    html = browser.submit(
        part_url(incident, "lessons"), {"group": "MORAL", "text_md": ""}
    ).get_data(as_text=True)
    assert field_errors(html, "group") == ["Not one of the choices."]
    assert field_errors(html, "text_md") == ["This field is required."]
    assert db.scalars(select(Lesson)).all() == []


# Action items

ACTION = {
    "title": "Add a smoke test",
    "group": "TECHNICAL",
    "type": "PREVENTIVE",
    "owner": "Ana",
    "due_on": "2024-04-01",
    "status": "OPEN",
}


def test_an_action_item_links_existing_and_new_guard_checks(browser, db, incident) -> None:
    existing = make_guard("Existing monitor")
    db.commit()
    data = {
        **ACTION,
        "guard_ids": [str(existing.id)],
        "new_guard_name": "Cache key test",
        "new_guard_kind": "AUTOMATED_TEST",
    }
    html = browser.submit(part_url(incident, "actions"), data, follow=True).get_data(as_text=True)
    assert "Existing monitor" in html and "Cache key test" in html
    item = db.scalars(select(ActionItem)).one()
    assert sorted(g.name for g in item.guards) == ["Cache key test", "Existing monitor"]
    new_guard = db.scalars(select(GuardCheck).where(GuardCheck.name == "Cache key test")).one()
    guard_html = browser.get(f"/guards/{new_guard.id}").get_data(as_text=True)
    assert "Cache poisoned" in guard_html and "Add a smoke test" in guard_html


def test_a_due_date_before_the_incident_is_refused(browser, db, incident) -> None:
    html = browser.submit(
        part_url(incident, "actions"), {**ACTION, "due_on": "2024-02-28"}
    ).get_data(as_text=True)
    assert field_errors(html, "due_on") == ["Cannot be before the incident started (2024-03-01)."]
    assert 'value="Add a smoke test"' in html
    assert db.scalars(select(ActionItem)).all() == []


def test_wont_do_needs_a_reason(browser, incident) -> None:
    html = browser.submit(part_url(incident, "actions"), {**ACTION, "status": "WONT_DO"}).get_data(
        as_text=True
    )
    assert field_errors(html, "wont_do_reason") == ["Say why it won't be done."]


def test_done_without_a_date_is_completed_today(browser, db, incident) -> None:
    from postmortems.timezones import local_today

    browser.submit(part_url(incident, "actions"), {**ACTION, "status": "DONE"})
    item = db.scalars(select(ActionItem)).one()
    assert item.status is ActionStatus.DONE
    with browser.client.application.app_context():
        assert item.completed_on == local_today()


def test_only_done_items_have_a_completion_date(browser, incident) -> None:
    html = browser.submit(
        part_url(incident, "actions"), {**ACTION, "completed_on": "2024-03-05"}
    ).get_data(as_text=True)
    assert field_errors(html, "completed_on") == ["Only a done item has a completion date."]


def test_a_new_guard_name_that_exists_is_refused(browser, db, incident) -> None:
    make_guard("Existing monitor")
    db.commit()
    html = browser.submit(
        part_url(incident, "actions"), {**ACTION, "new_guard_name": "Existing monitor"}
    ).get_data(as_text=True)
    assert field_errors(html, "new_guard_name") == [
        "A guard check with this name exists; tick it above."
    ]


def test_a_tracker_link_must_be_http(browser, incident) -> None:
    html = browser.submit(
        part_url(incident, "actions"), {**ACTION, "tracker_url": "javascript:alert(1)"}
    ).get_data(as_text=True)
    assert field_errors(html, "tracker_url")


def test_editing_an_action_item_keeps_its_guards_ticked(browser, db, incident) -> None:
    guard = make_guard("Existing monitor")
    db.commit()
    browser.submit(part_url(incident, "actions"), {**ACTION, "guard_ids": [str(guard.id)]})
    item = db.scalars(select(ActionItem)).one()
    html = browser.get(part_url(incident, "actions", item.id, "edit")).get_data(as_text=True)
    checkbox = re.search(rf'<input[^>]*name="guard_ids"[^>]*value="{guard.id}"[^>]*>', html)
    assert checkbox and "checked" in checkbox.group(0)


def test_removing_a_part_asks_first_and_a_get_removes_nothing(browser, db, incident) -> None:
    browser.submit(part_url(incident, "lessons"), {"group": "TECHNICAL", "text_md": "Keep it"})
    lesson = db.scalars(select(Lesson)).one()
    url = part_url(incident, "lessons", lesson.id, "delete")
    page = browser.get(url).get_data(as_text=True)
    assert "Remove this lesson?" in page and db.scalars(select(Lesson)).all() == [lesson]
    browser.submit(url, {})
    assert db.scalars(select(Lesson)).all() == []
