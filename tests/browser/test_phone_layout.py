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
        }


@pytest.mark.parametrize("device", list(WIDTHS))
def test_main_pages_fit_the_screen_and_keep_their_labels(
    chromium: Any, live_server: str, demo: dict[str, str], device: str
) -> None:
    width = WIDTHS[device]
    context = chromium.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto("/auth/login")
    page.get_by_label("Email").fill("author@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
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
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{device}.png", full_page=True)
    context.close()
