"""A reader types into the search box in the header and sees the results; a team lead sees
similar earlier postmortems on a postmortem's page and picks a recurrence by typing its key."""

from typing import Any

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


@pytest.fixture
def founding(app: Any, people: Any) -> None:
    from models import IncidentStatus
    from postmortems.db import session
    from tests.factories import make_incident, utc

    with app.app_context():
        make_incident(
            "Порог бинаризации изменили вместе с порогом решения",
            utc(2020, 8, 17),
            what_happened_md="Модель вернула ошибки на 1500 снимках.",
            tags=["config"],
            status=IncidentStatus.PUBLISHED,
        )
        make_incident(
            "Scores rounded to integers",
            utc(2020, 12, 1),
            what_happened_md="The backend rounded the probability.",
            tags=["config"],
            status=IncidentStatus.PUBLISHED,
        )
        session.commit()


def test_typing_in_the_search_box_shows_marked_results(page: Any, founding: None) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    sign_in_through_the_page(page, "reader@example.com")
    box = page.get_by_role("searchbox", name="Search")
    box.fill("ошибку")
    box.press("Enter")
    expect(page.locator("ol.results mark")).to_have_text(["ошибки"])
    expect(page.locator("ol.results")).to_contain_text("PM-2020-001")
    page.get_by_label("Words to find").fill("rounding")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("ol.results")).to_contain_text("Scores rounded to integers")
    assert errors == []


def test_similar_postmortems_load_on_the_page_and_the_picker_suggests(
    page: Any, founding: None
) -> None:
    from playwright.sync_api import expect

    sign_in_through_the_page(page, "reviewer@example.com")
    page.goto("/incidents/2")
    panel = page.locator("#similar")
    expect(panel).to_contain_text("PM-2020-001")
    expect(panel).to_contain_text("Tag config")
    page.goto("/incidents/2/edit")
    field = page.get_by_label("Recurrence of")
    field.fill("PM-2020")
    expect(page.locator("#recurrence_of_id-options option")).to_have_count(2)
    field.fill("PM-2020-001")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("article")).to_contain_text("Recurrence of")
    expect(page.locator("#similar")).to_contain_text("This one is its recurrence")
