"""The reports' navigation in a real browser on the demo data: the trend report opens on the
span that holds the incidents, the quarterly review on the newest quarter with any, its picker
lists those quarters and goes to the one chosen; a reversed range keeps the form and says why
beside the field. No error of the strict policy in the console."""

from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app: Any, people: Any) -> None:
    from postmortems.db import session
    from postmortems.demo import load_demo_data

    with app.app_context():
        load_demo_data()
        session.commit()


def test_reports_open_on_the_data_and_the_picker_moves_between_quarters(
    page: Any, demo: None
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_through_the_page(page, "reader@example.com")

    page.goto("/reports/trends")
    expect(page.get_by_label("From")).to_have_value("2020-07-01")
    expect(page.get_by_label("To")).to_have_value("2022-09-30")
    expect(page.locator("#quarters-table")).to_contain_text("2020Q3")
    expect(page.locator("#quarters-table")).to_contain_text("2022Q3")

    page.get_by_label("From").fill("2022-01-01")
    page.get_by_label("To").fill("2021-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator('[data-field="to"] .errors')).to_have_text("Cannot be before the start.")
    expect(page.get_by_label("To")).to_have_value("2021-01-01")
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")

    page.goto("/reports/quarterly/")
    expect(page.get_by_role("heading", name="Quarterly review 2022Q3")).to_be_visible()
    picker = page.get_by_label("Quarter")
    labels = picker.locator("option").all_inner_texts()
    assert labels == ["2022Q3", "2020Q4", "2020Q3"]
    picker.select_option("2020Q4")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Quarterly review 2020Q4")).to_be_visible()
    page.locator('a[rel="next"]').click()  # 2021's empty quarters skipped
    expect(page.get_by_role("heading", name="Quarterly review 2022Q3")).to_be_visible()
    page.locator('a[rel="prev"]').click()
    expect(page.get_by_role("heading", name="Quarterly review 2020Q4")).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors
