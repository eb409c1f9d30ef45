"""The report charts in a real browser: on a phone (390 px) each chart is shown at least 390 px
wide (its text at 11 px or more), on a desktop it scales up; every chart loads, nothing scrolls
sideways and the pages' strict policy holds."""

from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser

PAGES = ["/reports/trends?from=2020-01-01&to=2022-12-31", "/reports/quarterly/2022Q3"]


@pytest.fixture
def demo(app: Any, people: Any) -> None:
    from postmortems.db import session
    from postmortems.demo import load_demo_data

    with app.app_context():
        load_demo_data()
        session.commit()


@pytest.mark.parametrize("width", [390, 1280])
def test_report_charts_load_at_a_legible_width(
    chromium: Any, live_server: str, demo: None, width: int
) -> None:
    context = chromium.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_through_the_page(page, "reader@example.com")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        charts = page.evaluate(
            """() => [...document.querySelectorAll('figure.report-chart img')].map(
                   i => [i.naturalWidth, i.getBoundingClientRect().width])"""
        )
        assert charts, path
        for natural, shown in charts:
            assert natural > 0, path  # loaded
            assert shown >= 390, (path, shown)  # never scaled below the width it is drawn for
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
