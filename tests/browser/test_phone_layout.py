"""Every main page on a phone (390 px) and a desktop (1280 px): nothing scrolls sideways and
no table cell loses its column's name. With SCREENSHOTS_DIR set, each page is also saved as a
PNG there (docs/screenshots/ holds the ones the README shows)."""

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "desktop": 1280}
LONG_WORD = "x" * 200  # a title without spaces must wrap, not widen the page


@pytest.fixture
def demo(app: Any, people: Any) -> dict[str, str]:
    """The founding story, one very long title, and the main pages' paths."""
    from sqlalchemy import select

    from models import GuardCheck, Incident
    from postmortems.db import session
    from postmortems.demo import load_demo_data
    from tests.factories import make_incident

    with app.app_context():
        load_demo_data()
        make_incident(LONG_WORD, author_id=people["author"].id)
        session.commit()
        first = session.scalars(select(Incident).order_by(Incident.started_at)).first()
        guard = session.scalars(select(GuardCheck).order_by(GuardCheck.id)).first()
        assert first is not None and guard is not None
        return {
            "home": "/",
            "list": "/incidents/",
            "postmortem": f"/incidents/{first.id}",
            "history": f"/incidents/{first.id}/history",
            "file": "/incidents/new",
            "guards": "/guards/",
            "guard": f"/guards/{guard.id}",
            "teams": "/teams/",
            "causes": "/taxonomy/",
            "trends": "/reports/trends",
            "quarterly": "/reports/quarterly",
        }


@pytest.mark.parametrize("device", list(WIDTHS))
def test_main_pages_fit_the_screen_and_keep_their_labels(
    chromium: Any, live_server: str, demo: dict[str, str], device: str
) -> None:
    from playwright.sync_api import expect

    width = WIDTHS[device]
    context = chromium.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto("/auth/login")
    page.get_by_label("Email").fill("author@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    header = page.locator("header.site")
    if device == "phone":
        # A compact header: the brand, the search and "Menu" on one row; the menu opens
        # without JavaScript and says "Sign out" on one line.
        assert header.bounding_box()["height"] < 70, header.bounding_box()
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        page.locator("label.menu-button").click()
        sign_out = page.get_by_role("button", name="Sign out")
        expect(sign_out).to_be_visible()
        assert sign_out.bounding_box()["height"] < 30
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    else:
        expect(page.locator("label.menu-button")).to_be_hidden()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shots = os.environ.get("SCREENSHOTS_DIR")
    for name, path in demo.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, (path, scroll_width)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('table')].filter(t => {
                   const cards = getComputedStyle(t.querySelector('thead') || t).display === 'none';
                   return cards && [...t.querySelectorAll('td')].some(td => !td.dataset.label);
               }).length"""
        )
        assert unlabelled == 0, path
        # A quarter (2020Q1) or a postmortem's key is never broken across two lines.
        broken = page.evaluate(
            """() => {
                const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                const found = [];
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const words = /\\b(\\d{4}Q[1-4]|PM-\\d{4}-\\d+)\\b/g;
                    for (const m of node.textContent.matchAll(words)) {
                        const range = document.createRange();
                        range.setStart(node, m.index);
                        range.setEnd(node, m.index + m[0].length);
                        const rects = [...range.getClientRects()];
                        const lines = new Set(rects.map(r => Math.round(r.top)));
                        if (lines.size > 1) found.push(m[0]);
                    }
                }
                return found;
            }"""
        )
        assert broken == [], (path, broken)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{device}.png", full_page=True)
    context.close()
