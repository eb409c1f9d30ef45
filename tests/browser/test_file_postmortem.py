"""A person files a postmortem in a real browser, then finds it in the list and on a guard."""

import re

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


def test_file_a_postmortem_with_factor_impact_and_guarded_action(page, people) -> None:
    from playwright.sync_api import expect

    sign_in_through_the_page(page, "author@example.com")
    page.get_by_role("link", name="File a postmortem").click()
    page.get_by_label("Title").fill("Checkout rejected valid cards")
    page.get_by_label("One-line summary").fill("A currency rounding bug declined cards.")
    page.get_by_label("Severity").select_option(label="SEV2 — major")
    page.get_by_label("Started").fill("2024-05-01T09:00")
    page.get_by_label("Detected").fill("2024-05-01T09:40")
    page.get_by_label("What happened").fill("Amounts were **rounded** before comparison.")
    page.get_by_role("button", name="File postmortem").click()

    expect(page.locator(".flash")).to_contain_text("PM-2024-001 filed as a draft")
    expect(page.locator("h1")).to_have_text("Checkout rejected valid cards")
    expect(page.locator("dl.facts")).to_contain_text("40 min")

    page.get_by_role("link", name="+ factor").click()
    page.get_by_label("Contributing factor").select_option(label="Missing tests")
    page.get_by_label("Note").fill("No test compared amounts in minor units.")
    page.get_by_label("Primary factor").check()
    page.get_by_role("button", name="Save contributing factor").click()
    expect(page.locator("#factors")).to_contain_text("Missing tests")
    expect(page.locator("#factors")).to_contain_text("primary")

    page.get_by_role("link", name="+ impact estimate").click()
    page.get_by_label("Kind of impact").select_option(label="Lost revenue")
    page.get_by_label("Low").fill("1000.10")
    page.get_by_label("Likely").fill("12345,67")  # a comma: refused, and the text is kept
    page.get_by_label("High").fill("20000")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Save impact estimate").click()
    expect(page.locator("#likely-errors")).to_contain_text("Use a point for decimals")
    expect(page.get_by_label("Low")).to_have_value("1000.10")
    page.get_by_label("Likely").fill("12345.67")
    page.get_by_role("button", name="Save impact estimate").click()
    impact = page.locator("#impact")
    expect(impact).to_contain_text("12,345.67")
    expect(impact).to_contain_text("1,000.10")
    expect(impact).to_contain_text("EUR")

    page.get_by_role("link", name="+ action item").click()
    page.get_by_label("Title", exact=True).fill("Compare amounts in minor units")
    page.get_by_label("Group", exact=True).select_option(label="Technical")
    page.get_by_label("Type", exact=True).select_option(label="Preventive")
    page.get_by_label("Due date").fill("2024-06-01")
    page.get_by_label("New guard check", exact=True).fill("Checkout amount test")
    page.get_by_label("Kind of the new guard check").select_option(label="Automated test")
    page.get_by_role("button", name="Save action item").click()
    actions = page.locator("#actions")
    expect(actions).to_contain_text("Compare amounts in minor units")
    expect(actions.get_by_role("link", name="Checkout amount test")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Postmortems").click()
    row = page.locator("table.list tr", has_text="Checkout rejected valid cards")
    expect(row).to_contain_text("PM-2024-001")
    expect(row).to_contain_text("SEV2")

    page.get_by_role("navigation").get_by_role("link", name="Guard checks").click()
    page.get_by_role("link", name="Checkout amount test").click()
    expect(page).to_have_url(re.compile(r"/guards/\d+$"))
    expect(page.locator("main")).to_contain_text("PM-2024-001 Checkout rejected valid cards")
    expect(page.locator("main")).to_contain_text("Compare amounts in minor units")
