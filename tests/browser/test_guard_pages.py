"""The demo's guards in a real browser: the state badges, the run chart drawn and sized by the
stylesheet, the at-risk page, a run recorded through the form; no CSP error anywhere."""

from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


def test_guard_states_chart_and_a_run_recorded_by_hand(app: Any, page: Any, people: Any) -> None:
    from playwright.sync_api import expect
    from sqlalchemy import select

    from models import GuardCheck
    from postmortems.db import session
    from postmortems.demo import load_demo_data

    with app.app_context():
        load_demo_data()
        session.commit()
        failing = session.scalars(
            select(GuardCheck).where(
                GuardCheck.name == "Predictions unchanged on the reference studies"
            )
        ).one()
        guard_id = failing.id
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_through_the_page(page, "reviewer@example.com")

    page.goto("/guards/")
    expect(page.locator(".badge.guard-failing")).to_have_count(1)
    expect(page.locator(".badge.guard-stale")).to_have_count(1)

    page.goto(f"/guards/{guard_id}")
    chart = page.locator(".run-chart svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 200  # sized by the stylesheet, not inline
    fill = page.locator(".run-chart .bar-fail").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(180, 35, 24)"  # --danger, from style.css

    page.goto("/guards/at-risk")
    expect(page.get_by_role("heading", name="Predictions unchanged on the reference studies"))
    expect(page.locator(".badge.at-risk").first).to_be_visible()

    page.goto(f"/guards/{guard_id}")
    page.get_by_role("link", name="Record a run").click()
    page.get_by_label("Result").select_option("pass")
    page.get_by_label("Details").fill("Re-ran by hand: green")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".flashes")).to_contain_text("Run recorded.")
    expect(page.locator("h1 .badge")).to_have_text("Healthy")
    assert not [e for e in errors if "Content Security Policy" in e], errors
