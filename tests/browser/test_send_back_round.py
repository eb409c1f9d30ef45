"""The review round in a real browser at desktop and phone widths (issue 20): the author files
and submits in one step; the reviewer's empty send-back is answered beside the box, in view;
a send-back lands the reviewer on their queue (no "Not found") and puts the comment first in
front of the author, with a "sent back" badge on their home page. No console error."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page, sign_out_through_the_page

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
def page(request: pytest.FixtureRequest, chromium: Any, live_server: str) -> Iterator[Any]:
    width = request.param
    context = chromium.new_context(
        base_url=live_server, viewport={"width": width, "height": 900 if width > 800 else 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_errors = []
    page.on("console", lambda m: _note_error(page, m))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


def _note_error(page: Any, message: Any) -> None:
    """Console errors but the one the refused step's 400 answer logs by design."""
    if message.type == "error" and "status of 400" not in message.text:
        page.console_errors.append(message.text)


def test_the_send_back_round_as_author_and_reviewer(page, people) -> None:
    from playwright.sync_api import expect

    sign_in_through_the_page(page, "author@example.com")
    page.get_by_role("link", name="File a postmortem").click()
    page.get_by_label("Title").fill("Backups silently skipped")
    page.get_by_label("Started").fill("2024-05-01T09:00")
    page.get_by_role("button", name="File and submit for review").click()
    expect(page.locator(".flash")).to_contain_text("filed and submitted for review")
    expect(page.locator(".crumbs")).to_contain_text("In review")
    sign_out_through_the_page(page)

    sign_in_through_the_page(page, "reviewer@example.com")
    page.locator("#to-review").get_by_role("link", name="Backups silently skipped").click()
    page.get_by_role("button", name="Send back").click()
    error = page.locator("#text-errors")
    expect(error).to_have_text("Say what needs to change when sending a postmortem back.")
    expect(error).to_be_in_viewport()
    expect(page.get_by_label("Comment")).to_be_in_viewport()
    page.get_by_label("Comment").fill("Say how the skip went unnoticed for a week.")
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".flash")).to_contain_text("sent back to draft")
    expect(page.locator("body")).not_to_contain_text("Not found")
    listed = page.locator("#to-review")
    expect(listed).to_contain_text("Sent back by me")
    expect(listed).to_contain_text("Backups silently skipped")
    expect(listed).to_contain_text("Say how the skip went unnoticed for a week.")
    sign_out_through_the_page(page)

    sign_in_through_the_page(page, "author@example.com")
    drafts = page.locator("#drafts")
    expect(drafts.locator(".badge.sent-back")).to_have_text("sent back")
    drafts.get_by_role("link", name="Backups silently skipped").click()
    note = page.locator("#sent-back")
    expect(note).to_contain_text("Say how the skip went unnoticed for a week.")
    expect(note).to_be_in_viewport()
    assert page.console_errors == []
