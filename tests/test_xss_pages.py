"""XSS payloads typed into every Markdown field come out of every page inert."""

import pytest
from sqlalchemy import select

from models import ActionItem, GuardCheck, Incident, TimelineEvent
from tests.factories import factor_named, make_guard, make_incident
from tests.test_markdown import XSS_PAYLOADS, assert_inert

INCIDENT_MARKDOWN_FIELDS = [
    "what_happened_md",
    "analysis_md",
    "detection_md",
    "response_md",
    "went_well_md",
    "got_lucky_md",
]


def _body(html: str) -> str:
    """The part of the page users write into (the layout itself has no script)."""
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_in_every_markdown_field_renders_inert(browser, db, payload: str) -> None:
    data = {
        "title": "XSS",
        "started_at": "2024-01-01T10:00",
        "severity": "SEV3",
        "status": "DRAFT",
        **dict.fromkeys(INCIDENT_MARKDOWN_FIELDS, payload),
    }
    browser.submit("/incidents/new", data)
    incident = db.scalars(select(Incident)).one()
    base = f"/incidents/{incident.id}"
    browser.submit(f"{base}/timeline/new", {"at": "2024-01-01T10:00", "text_md": payload})
    browser.submit(
        f"{base}/factors/new", {"factor_id": str(factor_named("Fatigue").id), "note": payload}
    )
    browser.submit(f"{base}/lessons/new", {"group": "TECHNICAL", "text_md": payload})
    browser.submit(
        f"{base}/actions/new",
        {
            "title": "a",
            "group": "TECHNICAL",
            "type": "PREVENTIVE",
            "status": "OPEN",
            "details_md": payload,
            "new_guard_name": "g",
        },
    )
    guard = db.scalars(select(GuardCheck)).one()
    browser.submit(
        f"/guards/{guard.id}/edit",
        {"name": "g", "kind": "OTHER", "status": "ACTIVE", "description_md": payload},
    )
    assert db.scalars(select(TimelineEvent)).one().text_md == payload  # stored as typed
    assert db.scalars(select(ActionItem)).one().details_md == payload
    for url in (base, f"/guards/{guard.id}"):
        # The pages have their own forms (remove buttons); a payload's form would still
        # carry "javascript:", which is checked.
        body = _without_run_chart(_body(browser.get(url).get_data(as_text=True)))
        assert_inert(body, page_has=("<form",))


def _without_run_chart(html: str) -> str:
    """The page without the guard's run chart: an SVG the server draws from counts alone."""
    before, marker, after = html.partition('<figure class="run-chart">')
    return before + after.split("</figure>", 1)[1] if marker else html


def test_plain_text_fields_are_escaped_in_every_page(browser, db) -> None:
    payload = "<script>alert(1)</script>"
    incident = make_incident(payload, summary=payload, affected_system=payload)
    guard = make_guard(payload)
    db.commit()
    for url in (
        "/incidents/",
        f"/incidents/{incident.id}",
        "/guards/",
        f"/guards/{guard.id}",
        f"/incidents/{incident.id}/edit",
    ):
        html = _body(browser.get(url).get_data(as_text=True))
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
