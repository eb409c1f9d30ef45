"""The copy of a postmortem's form that the browser keeps (localStorage) until it is saved: a
refused save keeps it, even after leaving the page; a save that went through drops it."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, sign_in_through_the_page

pytestmark = pytest.mark.browser

KEPT = "postmortems:draft:/incidents/new"


@pytest.fixture
def author_page(page: Any, people: Any) -> Iterator[Any]:
    """The author's page, failing the test on any CSP error."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_through_the_page(page, "author@example.com")
    yield page
    assert not [e for e in errors if "Content Security Policy" in e]


def _kept(page: Any) -> Any:
    return page.evaluate(f"localStorage.getItem('{KEPT}')")


def _type_a_filing(page: Any, title: str) -> None:
    page.goto("/incidents/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Started", exact=True).fill("2024-03-01T10:00")
    page.get_by_label("Title").press("End")  # an input event, as typing makes


def test_a_refused_save_keeps_the_browsers_copy_even_after_leaving(author_page) -> None:
    from playwright.sync_api import expect

    page = author_page
    _type_a_filing(page, "Typed, then refused")
    page.locator("#impacts-0-low").fill("5")  # a half-filled row: no kind
    page.locator("#impacts-0-low").press("End")
    page.get_by_role("button", name="File postmortem").click()

    expect(page.locator("#impacts-0-kind-errors")).to_contain_text("Fill this in")
    expect(page.locator("#error-summary")).to_contain_text("Impact 1 — Kind of impact")
    expect(page.locator("#impacts-0-low")).to_have_value("5")
    assert "Typed, then refused" in _kept(page)
    page.goto("/incidents")  # left without saving
    assert "Typed, then refused" in _kept(page)
    page.goto("/incidents/new")
    page.get_by_role("button", name="Restore it").click()
    expect(page.get_by_label("Title")).to_have_value("Typed, then refused")


def test_a_save_that_went_through_drops_the_browsers_copy(author_page) -> None:
    from playwright.sync_api import expect

    page = author_page
    _type_a_filing(page, "Typed, then filed")
    assert "Typed, then filed" in _kept(page)
    page.get_by_role("button", name="File postmortem").click()

    expect(page.locator(".flash")).to_contain_text("filed as a draft")
    # draft.js drops the copy once the page it lands on has loaded: wait for that, not a moment.
    page.wait_for_function(f"localStorage.getItem('{KEPT}') === null", timeout=5000)
    assert _kept(page) is None
    page.goto("/incidents/new")
    expect(page.get_by_role("button", name="Restore it")).to_have_count(0)


def test_a_save_after_the_session_ended_says_the_text_is_kept(author_page, app) -> None:
    """Issue 20: the sign-in page says the typed text was kept and will be offered back;
    signed in again, it is."""
    from playwright.sync_api import expect
    from sqlalchemy import update

    from models import UserSession, utcnow
    from postmortems.db import session

    page = author_page
    expect(page.locator("#kept-draft")).to_be_hidden()
    _type_a_filing(page, "Typed as the session ended")
    with app.app_context():  # the session ends on the server while the page is open
        session.execute(update(UserSession).values(ended_at=utcnow()))
        session.commit()
    page.get_by_role("button", name="File postmortem").click()

    expect(page).to_have_url(re.compile(r".*/auth/login"))
    expect(page.locator("#kept-draft")).to_be_visible()
    expect(page.locator("#kept-draft")).to_contain_text("What you typed is kept in this browser")
    page.get_by_label("Email").fill("author@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/incidents/new")
    page.get_by_role("button", name="Restore it").click()
    expect(page.get_by_label("Title")).to_have_value("Typed as the session ended")
