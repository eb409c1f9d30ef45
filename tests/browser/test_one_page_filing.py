"""A team lead files a realistic postmortem on the one page, in a real browser: with
JavaScript rows are added in place, without it by plain forms; few page loads either way."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def lead(
    request: pytest.FixtureRequest, chromium: Any, live_server: str, people: Any
) -> Iterator[Any]:
    """A page as the author sees it, counting its page loads and failing on CSP errors."""
    context = chromium.new_context(base_url=live_server, java_script_enabled=request.param)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.loads = 0
    page.csp_errors = []
    page.on("framenavigated", lambda frame: _count_load(page, frame))
    page.on(
        "console",
        lambda message: (
            page.csp_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    sign_in_through_the_page(page, "author@example.com")
    page.javascript = request.param
    yield page
    context.close()


def _count_load(page: Any, frame: Any) -> None:
    if frame == page.main_frame:
        page.loads += 1


def _add_row(page: Any, kind: str, noun: str) -> None:
    rows = page.locator(f"#{kind} .row")
    before = rows.count()
    page.locator(f"#{kind}").get_by_role("button", name=f"Add another {noun}").click()
    from playwright.sync_api import expect

    expect(rows).to_have_count(before + 1)


def test_a_realistic_postmortem_is_filed_in_a_handful_of_page_loads(lead) -> None:
    from playwright.sync_api import expect

    page = lead
    page.loads = 0
    page.get_by_role("link", name="File a postmortem").click()
    page.get_by_label("Title").fill("Threshold change broke breast masks")
    page.get_by_label("Severity").select_option(label="SEV1 — critical")
    page.get_by_label("Started", exact=True).fill("2024-03-01T10:00")
    page.get_by_label("What happened").fill("A tuning change reused `bin_threshold`.")
    events = [
        ("2024-03-01T10:00", "Change merged with the test override."),
        ("2024-03-03T11:00", "Garbage predictions seen in the stream."),
        ("2024-03-03T14:00", "Change undone."),
    ]
    for n, (at, text) in enumerate(events):
        if n:
            _add_row(page, "timeline", "event")
        page.locator(f"#timeline-{n}-at").fill(at)
        page.locator(f"#timeline-{n}-text_md").fill(text)
    factors = ["Tangled code and configs", "Rules not followed"]
    for n, factor in enumerate(factors):
        if n:
            _add_row(page, "factors", "factor")
        page.locator(f"#factors-{n}-factor_id").select_option(label=factor)
    page.locator("#impacts-0-kind").select_option(label="Items processed wrongly")
    page.locator("#impacts-0-likely").fill("1500")
    page.locator("#impacts-0-unit").fill("images")
    _add_row(page, "impacts", "impact estimate")
    page.locator("#impacts-1-kind").select_option(label="Reputation")
    page.locator("#impacts-1-level").select_option(label="None")
    page.locator("#lessons-0-text_md").fill("Name config keys so that each means one thing.")
    page.locator("#actions-0-title").fill("Split the config key")
    page.locator("#actions-0-type").select_option(label="Preventive")
    page.locator("#actions-0-new_guard_name").fill("Config keys mean one thing")
    # What was typed above survives every "Add another", with or without JavaScript.
    expect(page.locator("#timeline-0-text_md")).to_have_value(events[0][1])
    page.get_by_role("button", name="File postmortem").click()

    expect(page.locator(".flash")).to_contain_text("filed as a draft")
    expect(page.locator("#timeline")).to_contain_text("Change undone.")
    expect(page.locator("#factors")).to_contain_text("Rules not followed")
    expect(page.locator("#impact")).to_contain_text("1,500")
    expect(page.locator("#actions")).to_contain_text("Config keys mean one thing")
    if page.javascript:
        assert page.loads <= 5, page.loads
    else:
        assert page.loads <= 8, page.loads  # one per "Add another", by plain forms

    # Later, on the same page: a saved part changed, one removed, one added, in one save.
    page.get_by_role("link", name="Edit", exact=True).first.click()
    expect(page.locator("#lessons-0-text_md")).to_have_value(
        "Name config keys so that each means one thing."
    )
    page.locator("#lessons-0-text_md").fill("Name each config key for one meaning.")
    page.locator("#timeline-2-remove").check()
    if page.javascript:  # the removed row folds away and says what will happen
        expect(page.locator("#timeline-2-text_md")).to_be_hidden()
        expect(page.locator("#timeline .removed-note").nth(2)).to_be_visible()
    page.locator("#actions-0-status").select_option(label="Done")
    _add_row(page, "lessons", "lesson")
    page.locator("#lessons-1-text_md").fill("Check per-category figures, not aggregates.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("saved")
    expect(page.locator("#timeline")).not_to_contain_text("Change undone.")
    expect(page.locator("#timeline")).to_contain_text("Garbage predictions")
    expect(page.locator("#lessons")).to_contain_text("Name each config key for one meaning.")
    expect(page.locator("#lessons")).to_contain_text("Check per-category figures")
    expect(page.locator("#actions")).to_contain_text("Done")
    assert page.csp_errors == []


def test_fields_show_only_when_they_apply(page, people, app) -> None:
    from playwright.sync_api import expect

    from models import IncidentStatus
    from postmortems.db import session
    from tests.factories import make_incident

    with app.app_context():
        incident = make_incident("Cache poisoned", status=IncidentStatus.PUBLISHED)
        session.commit()
        incident_id = incident.id
    sign_in_through_the_page(page, "reviewer@example.com")  # reviewers edit published ones
    page.goto(f"/incidents/{incident_id}/impacts/new")
    kind = page.get_by_label("Kind of impact")
    kind.select_option(label="Reputation")
    expect(page.get_by_label("Level")).to_be_visible()
    expect(page.get_by_label("Currency")).to_be_hidden()
    kind.select_option(label="Lost revenue")
    expect(page.get_by_label("Currency")).to_be_visible()
    expect(page.get_by_label("Level")).to_be_hidden()
    expect(page.get_by_label("Unit")).to_be_hidden()
    kind.select_option(label="Downtime")
    expect(page.get_by_label("Unit")).to_be_visible()
    expect(page.get_by_label("Currency")).to_be_hidden()
    page.goto(f"/incidents/{incident_id}/actions/new")
    expect(page.get_by_label("Why it won't be done")).to_be_hidden()
    page.get_by_label("Status").select_option(label="Won't do")
    expect(page.get_by_label("Why it won't be done")).to_be_visible()


def test_preview_in_place_and_a_draft_kept_when_the_session_ends(page, people) -> None:
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_out_through_the_page

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_through_the_page(page, "author@example.com")
    page.goto("/incidents/new")
    page.get_by_label("Title").fill("Typed before the session ended")
    page.get_by_label("What happened").fill("Rows **vanished** overnight.")
    page.locator("#what_happened_md").press("End")  # an input event, as typing makes
    page.locator('button[value="what_happened_md"]').click()
    expect(page.locator("#what_happened_md-preview strong")).to_have_text("vanished")
    # Signed out elsewhere (here: the same browser), the text typed is still on this device.
    page.once("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    sign_out_through_the_page(page)
    sign_in_through_the_page(page, "author@example.com")
    page.goto("/incidents/new")
    page.get_by_role("button", name="Restore it").click()
    expect(page.get_by_label("Title")).to_have_value("Typed before the session ended")
    expect(page.get_by_label("What happened")).to_have_value("Rows **vanished** overnight.")
    assert not [e for e in errors if "Content Security Policy" in e]
