"""In a real browser: an author files and submits, a reviewer publishes, a reader reads."""

import pytest

from tests.browser.conftest import sign_in_through_the_page, sign_out_through_the_page

pytestmark = pytest.mark.browser


def test_submit_for_review_publish_and_read(page, people, app) -> None:
    from playwright.sync_api import expect

    sign_in_through_the_page(page, "author@example.com")
    page.get_by_role("link", name="File a postmortem").click()
    page.get_by_label("Title").fill("Backups silently skipped")
    page.get_by_label("Started").fill("2024-05-01T09:00")
    page.get_by_role("button", name="File postmortem").click()
    expect(page.locator(".flash")).to_contain_text("filed as a draft")
    for link, fill in [
        (
            "+ factor",
            lambda: page.get_by_label("Contributing factor").select_option(
                label="No monitoring or alerts"
            ),
        ),
        (
            "+ impact estimate",
            lambda: (
                page.get_by_label("Kind of impact").select_option(label="Downtime"),
                page.get_by_label("Likely").fill("4"),
                page.get_by_label("Unit").fill("hours"),
            ),
        ),
        ("+ lesson", lambda: page.get_by_label("Lesson").fill("Alert on missing backups.")),
    ]:
        page.get_by_role("link", name=link).click()
        fill()
        page.locator("form.form button[type=submit]").click()
    page.get_by_label("Comment").fill("Ready for review.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash")).to_contain_text("submitted for review")
    incident_url = page.url.split("#")[0]
    sign_out_through_the_page(page)

    sign_in_through_the_page(page, "reviewer@example.com")
    page.goto(incident_url)
    expect(page.locator("#review")).to_contain_text("Ready for review.")
    page.get_by_label("Comment").fill("Clear and blameless.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash")).to_contain_text("published")
    sign_out_through_the_page(page)

    sign_in_through_the_page(page, "reader@example.com")
    page.get_by_role("navigation").get_by_role("link", name="Postmortems").click()
    page.get_by_role("link", name="Backups silently skipped").click()
    expect(page.locator("h1")).to_have_text("Backups silently skipped")
    expect(page.locator(".crumbs")).to_contain_text("Published")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
