"""Filing, reading, editing, listing and deleting postmortems through the pages."""

import re

from sqlalchemy import select

from models import Incident, Severity, Tag
from tests.conftest import admin_client, field_errors
from tests.factories import make_incident, make_stage, make_team, utc

VALID = {
    "title": "Nightly export wrote empty files",
    "summary": "Exports were empty for two nights.",
    "severity": "SEV2",
    "status": "DRAFT",
    "started_at": "2024-03-01T22:00",
    "detected_at": "2024-03-03T08:15",
    "mitigated_at": "2024-03-03T09:00",
    "resolved_at": "2024-03-03T12:00",
    "what_happened_md": "The export job **skipped** every row.",
    "tags": "export, Data ,export",
    "affected_system": "export",
    "environment": "production",
}


def test_filing_a_postmortem_saves_it_and_shows_it(browser, db) -> None:
    response = browser.submit("/incidents/new", VALID, follow=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "PM-2024-001 filed" in html
    assert "<strong>skipped</strong>" in html
    assert "1 d 10 h 15 min" in html  # time to detect
    incident = db.scalars(select(Incident)).one()
    assert incident.severity is Severity.SEV2
    assert incident.started_at == utc(2024, 3, 1, 22)
    assert [t.name for t in incident.tags] == ["data", "export"]


def test_the_new_postmortem_appears_in_the_list(browser) -> None:
    browser.submit("/incidents/new", VALID)
    html = browser.get("/incidents/").get_data(as_text=True)
    assert "Nightly export wrote empty files" in html and "PM-2024-001" in html


def test_empty_title_is_refused_beside_the_field_and_the_text_is_kept(browser, db) -> None:
    response = browser.submit("/incidents/new", {**VALID, "title": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, "title") == ["This field is required."]
    assert "The export job **skipped** every row." in html
    assert db.scalars(select(Incident)).all() == []


def test_detected_before_started_is_refused(browser, db) -> None:
    response = browser.submit("/incidents/new", {**VALID, "detected_at": "2024-03-01T21:00"})
    html = response.get_data(as_text=True)
    assert field_errors(html, "detected_at") == ["Cannot be before the start (2024-03-01 22:00)."]
    assert 'value="2024-03-01T21:00"' in html
    assert db.scalars(select(Incident)).all() == []


def test_resolved_before_started_is_refused(browser, db) -> None:
    data = {**VALID, "detected_at": "", "mitigated_at": "", "resolved_at": "2024-02-01T00:00"}
    html = browser.submit("/incidents/new", data).get_data(as_text=True)
    assert field_errors(html, "resolved_at") == ["Cannot be before the start (2024-03-01 22:00)."]
    assert db.scalars(select(Incident)).all() == []


def test_mitigated_before_detected_is_refused(browser) -> None:
    html = browser.submit("/incidents/new", {**VALID, "mitigated_at": "2024-03-02T00:00"}).get_data(
        as_text=True
    )
    assert field_errors(html, "mitigated_at") == ["Cannot be before detection (2024-03-03 08:15)."]


def test_a_date_that_is_not_a_date_is_refused(browser) -> None:
    html = browser.submit("/incidents/new", {**VALID, "started_at": "yesterday"}).get_data(
        as_text=True
    )
    assert field_errors(html, "started_at")
    assert 'value="yesterday"' in html


def test_an_unknown_severity_is_refused(browser) -> None:
    html = browser.submit("/incidents/new", {**VALID, "severity": "SEV9"}).get_data(as_text=True)
    assert field_errors(html, "severity") == ["Not one of the choices."]


def test_an_unknown_team_is_refused(browser) -> None:
    html = browser.submit("/incidents/new", {**VALID, "team_id": "12345"}).get_data(as_text=True)
    assert field_errors(html, "team_id") == ["Not a valid choice."]


def test_times_are_entered_and_shown_in_the_team_zone(app_config) -> None:
    from postmortems.db import session
    from tests.conftest import Browser, new_app

    app = new_app({**app_config, "TIMEZONE": "Europe/Moscow"})
    browser = Browser(admin_client(app))
    html = browser.submit("/incidents/new", VALID, follow=True).get_data(as_text=True)
    assert "2024-03-01 22:00" in html
    assert "Europe/Moscow" in html
    with app.app_context():
        assert session.scalars(select(Incident)).one().started_at == utc(2024, 3, 1, 19)
    app.extensions["db_engine"].dispose()


def test_editing_changes_the_fields_and_tags(browser, db) -> None:
    incident = make_incident("Old title")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    form_html = browser.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form_html).group(1)
    response = browser.submit(
        url, {**VALID, "title": "New title", "tags": "ops", "version": version}, follow=True
    )
    assert "Postmortem saved." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Incident, incident.id).title == "New title"
    assert [t.name for t in db.get(Incident, incident.id).tags] == ["ops"]


def test_a_save_based_on_an_outdated_copy_is_refused_and_keeps_the_text(browser, db) -> None:
    incident = make_incident("Original")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    first = browser.submit(url, {**VALID, "title": "First save", "version": "1"})
    assert first.status_code == 302
    second = browser.submit(url, {**VALID, "title": "Second save", "version": "1"})
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else saved this postmortem" in html
    assert 'value="Second save"' in html
    db.expire_all()
    assert db.get(Incident, incident.id).title == "First save"


def test_the_detail_page_shows_headcount_and_stage_at_the_start(client, db) -> None:
    team = make_team("ML", [])
    from datetime import date

    from models import HeadcountSnapshot

    team.snapshots.append(HeadcountSnapshot(on_date=date(2020, 8, 1), headcount=8))
    make_stage("Founding", 0, 10)
    incident = make_incident("Aug", utc(2020, 8, 17), team=team)
    db.commit()
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "8 people (8 in ML)" in html
    assert "stage: Founding" in html


def test_the_list_filters_through_the_query_string(client, db) -> None:
    make_incident("Broker down", severity=Severity.SEV1)
    make_incident("Typo on status page", severity=Severity.SEV4)
    db.commit()
    html = client.get("/incidents/?severity=SEV1").get_data(as_text=True)
    assert "Broker down" in html and "Typo on status page" not in html


def test_an_invalid_filter_gets_a_400_with_the_error_beside_it(client) -> None:
    response = client.get("/incidents/?year=soon")
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "year")


def test_the_list_is_paginated(app_config) -> None:
    from postmortems.db import session
    from tests.conftest import new_app

    app = new_app({**app_config, "INCIDENTS_PER_PAGE": 2})
    with app.app_context():
        for day in range(1, 6):
            make_incident(f"incident {day}", utc(2024, 1, day))
        session.commit()
    client = admin_client(app)
    first = client.get("/incidents/").get_data(as_text=True)
    # Old numbered links lead to the same page by key.
    last = client.get("/incidents/?page=3", follow_redirects=True).get_data(as_text=True)
    beyond = client.get("/incidents/?page=99", follow_redirects=True).get_data(as_text=True)
    assert "5 postmortems." in first and "incident 5" in first and "incident 3" not in first
    assert "incident 1" in last and "incident 2" not in last and 'rel="next"' not in last
    assert "incident 1" in beyond and 'rel="next"' not in beyond
    app.extensions["db_engine"].dispose()


def test_deleting_asks_first_then_removes_the_postmortem(browser, db) -> None:
    incident_id = make_incident("Doomed").id
    db.commit()
    url = f"/incidents/{incident_id}/delete"
    assert "cannot be undone" in browser.get(url).get_data(as_text=True)
    response = browser.submit(url, {}, follow=True)
    assert "deleted" in response.get_data(as_text=True)
    assert db.get(Incident, incident_id) is None


def test_recurrence_of_links_an_earlier_incident(browser, db) -> None:
    first = make_incident("First time", utc(2023, 1, 1))
    db.commit()
    browser.submit("/incidents/new", {**VALID, "recurrence_of_id": str(first.id)})
    second = db.scalars(select(Incident).where(Incident.title == VALID["title"])).one()
    assert second.recurrence_of_id == first.id
    html = browser.get(f"/incidents/{second.id}").get_data(as_text=True)
    assert "Recurrence of" in html and "First time" in html


def test_tags_are_not_duplicated(browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    browser.submit("/incidents/new", {**VALID, "title": "Again"})
    assert sorted(db.scalars(select(Tag.name))) == ["data", "export"]
