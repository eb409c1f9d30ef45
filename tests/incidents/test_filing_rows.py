"""The rows of the one-page form, filed by plain forms with CSRF: a row with nothing typed is
skipped, a row with anything typed must be complete, and one submit answers every problem of
the page, each beside its field and in the summary, named by section and row."""

import re
from html import unescape

from sqlalchemy import func, select

from models import ActionItem, Incident, IncidentFactor, Lesson
from tests.conftest import field_errors
from tests.factories import factor_named, make_incident

FILING = {"title": "Threshold change broke masks", "started_at": "2024-03-01T10:00"}
FILL_IN = "Fill this in, or leave the whole row empty."


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _summary(html: str) -> list[str]:
    """The lines of the error summary at the top of the form, as a person reads them."""
    block = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def _summary_links(html: str) -> list[str]:
    block = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([^"]+)"', block)


def test_rows_left_at_their_preselected_choices_are_skipped(browser, db) -> None:
    response = browser.submit_filled("/incidents/new", FILING)
    assert response.status_code == 302
    assert _count(db, Incident) == 1 and _count(db, Lesson) == 0 and _count(db, ActionItem) == 0


def test_an_impact_with_numbers_and_a_currency_but_no_kind_is_refused_beside_its_kind(
    browser, db
) -> None:
    row = {
        "impacts-0-low": "1",
        "impacts-0-likely": "2",
        "impacts-0-high": "3",
        "impacts-0-currency": "EUR",
    }
    response = browser.submit("/incidents/new", {**FILING, **row})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, "impacts-0-kind") == [FILL_IN]
    assert 'value="EUR"' in html and 'value="3"' in html  # the typed text stays
    assert _count(db, Incident) == 0


def test_a_factor_note_without_a_factor_is_refused_beside_the_factor(browser, db) -> None:
    row = {"factors-0-note": "The override was routine."}
    html = browser.submit("/incidents/new", {**FILING, **row}).get_data(as_text=True)
    assert field_errors(html, "factors-0-factor_id") == [FILL_IN]
    assert "The override was routine." in html
    assert _count(db, Incident) == 0


def test_an_action_row_with_only_a_new_guard_name_is_refused_beside_its_title(browser, db) -> None:
    row = {"actions-0-new_guard_name": "Metrics test on every change"}
    html = browser.submit("/incidents/new", {**FILING, **row}).get_data(as_text=True)
    assert field_errors(html, "actions-0-title") == [FILL_IN]
    assert 'value="Metrics test on every change"' in html
    assert _count(db, Incident) == 0


def test_a_lesson_whose_group_was_changed_but_has_no_text_is_refused(browser, db) -> None:
    html = browser.submit_filled(
        "/incidents/new", {**FILING, "lessons-0-group": "PERSONAL"}
    ).get_data(as_text=True)
    assert field_errors(html, "lessons-0-text_md") == [FILL_IN]
    assert _count(db, Incident) == 0


def test_a_half_filled_new_row_is_refused_on_edit_too(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    html = browser.submit_filled(url, {"factors-0-is_primary": "y"}).get_data(as_text=True)
    assert field_errors(html, "factors-0-factor_id") == [FILL_IN]
    assert _count(db, IncidentFactor) == 0


def test_every_mistake_across_five_sections_is_answered_in_one_submit(browser, db) -> None:
    typed = {
        **FILING,
        "detected_at": "2024-03-01T09:00",  # before the start
        "timeline-0-at": "yesterday",  # not a time
        "timeline-0-text_md": "Change merged.",
        "factors-0-note": "Nobody ran the slow tests.",  # no factor chosen
        "impacts-0-kind": "LOST_REVENUE",
        "impacts-0-low": "5",  # above likely
        "impacts-0-likely": "1",
        "impacts-0-currency": "EUR",
        "impacts-1-kind": "DIRECT_COST",
        "impacts-1-likely": "100",
        "impacts-1-currency": "XYZ",  # no such currency
        "actions-0-title": "Make the metrics test fast",
        "actions-0-type": "PREVENTIVE",
        "actions-0-group": "TECHNICAL",
        "actions-0-due_on": "2024-02-01",  # before the incident started
    }
    html = browser.submit_filled("/incidents/new", typed).get_data(as_text=True)
    assert field_errors(html, "detected_at") == ["Cannot be before the start (2024-03-01 10:00)."]
    assert field_errors(html, "timeline-0-at") == ["Not a valid datetime value."]
    assert field_errors(html, "factors-0-factor_id") == [FILL_IN]
    assert field_errors(html, "impacts-0-low") == ["Low cannot be above likely."]
    assert field_errors(html, "impacts-1-currency") == ["XYZ is not an ISO 4217 currency code."]
    assert field_errors(html, "actions-0-due_on") == [
        "Cannot be before the incident started (2024-03-01)."
    ]
    assert _summary(html) == [
        "Detected: Cannot be before the start (2024-03-01 10:00).",
        "Timeline event 1 — Time: Not a valid datetime value.",
        f"Factor 1 — Contributing factor: {FILL_IN}",
        "Impact 1 — Low: Low cannot be above likely.",
        "Impact 2 — Currency: XYZ is not an ISO 4217 currency code.",
        "Action item 1 — Due date: Cannot be before the incident started (2024-03-01).",
    ]
    assert _summary_links(html) == [
        "detected_at",
        "timeline-0-at",
        "factors-0-factor_id",
        "impacts-0-low",
        "impacts-1-currency",
        "actions-0-due_on",
    ]
    assert _count(db, Incident) == 0


def test_the_incidents_rules_and_its_rows_rules_are_answered_together(browser, db) -> None:
    typed = {
        **FILING,
        "title": "",  # required
        "resolved_at": "2024-02-01T10:00",  # before the start
        "impacts-0-kind": "LOST_REVENUE",
        "impacts-0-likely": "1",
        "impacts-0-high": "0.5",
        "impacts-0-currency": "EUR",
    }
    html = browser.submit("/incidents/new", typed).get_data(as_text=True)
    assert field_errors(html, "title") == ["This field is required."]
    assert field_errors(html, "resolved_at") == ["Cannot be before the start (2024-03-01 10:00)."]
    assert field_errors(html, "impacts-0-high") == ["High cannot be below likely."]


def test_a_filing_that_parses_answers_the_incident_and_every_row_at_once(browser, db) -> None:
    typed = {
        **FILING,
        "mitigated_at": "2024-02-01T10:00",  # before the start
        "lessons-0-text_md": "Run every test.",
        "impacts-0-kind": "LOST_REVENUE",
        "impacts-0-likely": "1",
        "impacts-0-currency": "XYZ",
        "actions-0-title": "Fast metrics test",
        "actions-0-due_on": "2024-01-01",
    }
    html = browser.submit("/incidents/new", typed).get_data(as_text=True)
    assert field_errors(html, "mitigated_at") == ["Cannot be before the start (2024-03-01 10:00)."]
    assert field_errors(html, "impacts-0-currency") == ["XYZ is not an ISO 4217 currency code."]
    assert field_errors(html, "actions-0-due_on") == [
        "Cannot be before the incident started (2024-03-01)."
    ]
    assert _count(db, Incident) == 0


def test_an_edit_answers_the_incident_and_its_rows_at_once(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    changes = {
        "detected_at": "2000-01-01T00:00",  # before the start
        "factors-0-factor_id": str(factor_named("Missing tests").id),
        "impacts-0-kind": "DOWNTIME",
        "impacts-0-likely": "3",
        "impacts-0-low": "4",
        "impacts-0-unit": "hours",
    }
    html = browser.submit_filled(url, changes).get_data(as_text=True)
    assert field_errors(html, "detected_at")[0].startswith("Cannot be before the start")
    assert field_errors(html, "impacts-0-low") == ["Low cannot be above likely."]
    assert _count(db, IncidentFactor) == 0
