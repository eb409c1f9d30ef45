"""Guard check pages: add, edit, list and see what a guard protects."""

from sqlalchemy import select

from models import ActionItem, ActionType, GuardCheck, GuardKind, GuardStatus, LessonGroup
from tests.conftest import field_errors
from tests.factories import make_guard, make_incident

GUARD = {
    "name": "Reference predictions test",
    "kind": "AUTOMATED_TEST",
    "location": "tests/regression/test_reference.py",
    "description_md": "Fails on **any** change",
    "owner": "ML",
    "status": "ACTIVE",
}


def test_add_a_guard_check(browser, db) -> None:
    response = browser.submit("/guards/new", GUARD, follow=True)
    html = response.get_data(as_text=True)
    assert "Reference predictions test" in html and "<strong>any</strong>" in html
    guard = db.scalars(select(GuardCheck)).one()
    assert (guard.kind, guard.status) == (GuardKind.AUTOMATED_TEST, GuardStatus.ACTIVE)
    assert "Reference predictions test" in browser.get("/guards/").get_data(as_text=True)


def test_a_guard_needs_a_unique_name(browser, db) -> None:
    make_guard("Reference predictions test")
    db.commit()
    html = browser.submit("/guards/new", GUARD).get_data(as_text=True)
    assert field_errors(html, "name") == ["Another guard check has this name."]
    assert len(db.scalars(select(GuardCheck)).all()) == 1


def test_a_guard_needs_a_known_kind(browser, db) -> None:
    html = browser.submit("/guards/new", {**GUARD, "kind": "PRAYER"}).get_data(as_text=True)
    assert field_errors(html, "kind") == ["Not one of the choices."]
    assert db.scalars(select(GuardCheck)).all() == []


def test_edit_a_guard_check(browser, db) -> None:
    guard = make_guard("Old name")
    db.commit()
    browser.submit(f"/guards/{guard.id}/edit", {**GUARD, "status": "RETIRED"})
    db.expire_all()
    assert db.get(GuardCheck, guard.id).status is GuardStatus.RETIRED
    assert db.get(GuardCheck, guard.id).name == "Reference predictions test"


def test_renaming_to_its_own_name_is_allowed(browser, db) -> None:
    guard = make_guard("Reference predictions test")
    db.commit()
    response = browser.submit(f"/guards/{guard.id}/edit", GUARD)
    assert response.status_code == 302


def test_the_guard_page_lists_the_incidents_and_action_items_it_protects(client, db) -> None:
    guard = make_guard("Drift monitor")
    incident = make_incident("Predictions drifted")
    incident.action_items.append(
        ActionItem(
            title="Alert on drift",
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            guards=[guard],
        )
    )
    db.commit()
    html = client.get(f"/guards/{guard.id}").get_data(as_text=True)
    assert "Predictions drifted" in html and "Alert on drift" in html
