"""Revisions: every change is kept, any two can be compared, an old one can be restored."""

import re

from sqlalchemy import select

from models import AuditEvent, Incident, IncidentRevision, IncidentStatus, Role
from tests.conftest import Browser, field_errors, make_user, sign_in

VALID = {
    "title": "Disk filled up",
    "severity": "SEV3",
    "started_at": "2024-03-01T10:00",
    "what_happened_md": "Logs grew without rotation.",
}


def edit(browser: Browser, incident_id: int, **changes: str) -> object:
    """Open the edit form and save it with these changes (the form's version included)."""
    return browser.submit(f"/incidents/{incident_id}/edit", {**VALID, **changes})


def test_each_change_is_a_revision_with_who_and_what(browser, db, admin) -> None:
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    browser.submit(
        f"/incidents/{incident.id}/lessons/new", {"group": "TECHNICAL", "text_md": "Rotate logs."}
    )
    edit(browser, incident.id, title="Disk filled up on db-1")
    revisions = db.scalars(select(IncidentRevision).order_by(IncidentRevision.number)).all()
    assert [r.summary for r in revisions] == [
        f"filed {incident.key}",
        "saved a lesson",
        "edited the postmortem",
    ]
    assert {r.user_id for r in revisions} == {admin.id}
    assert revisions[-1].snapshot["title"] == "Disk filled up on db-1"


def test_saving_without_a_change_adds_no_revision(browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    edit(browser, incident.id)
    assert len(db.scalars(select(IncidentRevision)).all()) == 1


def test_the_history_page_shows_a_readable_diff_between_two_revisions(browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    edit(browser, incident.id, title="Disk filled up on db-1")
    edit(
        browser,
        incident.id,
        title="Disk filled up on db-1",
        what_happened_md="Logs grew without rotation for 3 weeks.",
    )
    html = browser.get(f"/incidents/{incident.id}/history?a=1&b=3").get_data(as_text=True)
    assert '<span class="diff-remove">-Title: Disk filled up</span>' in html
    assert '<span class="diff-add">+Title: Disk filled up on db-1</span>' in html
    assert "+Logs grew without rotation for 3 weeks." in html
    latest = browser.get(f"/incidents/{incident.id}/history").get_data(as_text=True)
    assert "Changes from revision 2 to 3" in latest


def test_an_unknown_revision_number_is_not_found(browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    assert browser.get(f"/incidents/{incident.id}/history?a=1&b=9").status_code == 404


def test_restoring_an_old_revision_is_itself_a_new_revision(browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    browser.submit(
        f"/incidents/{incident.id}/lessons/new", {"group": "TECHNICAL", "text_md": "Rotate logs."}
    )
    edit(browser, incident.id, title="Wrong title")
    browser.submit(
        f"/incidents/{incident.id}/history",
        {},
        action=f"/incidents/{incident.id}/history/2/restore",
    )
    restored = db.get(Incident, incident.id)
    assert restored.title == "Disk filled up"
    assert [lesson.text_md for lesson in restored.lessons] == ["Rotate logs."]
    numbers = [r.number for r in restored.revisions]
    assert numbers == [1, 2, 3, 4]
    assert restored.revisions[-1].summary == "restored revision 2"


def test_changes_are_in_the_audit_log_for_admins_only(app, browser, db) -> None:
    browser.submit("/incidents/new", VALID)
    browser.submit("/guards/new", {"name": "Disk alert", "kind": "MONITOR", "status": "ACTIVE"})
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["filed PM-2024-001", "added guard check"]
    html = browser.get("/audit/").get_data(as_text=True)
    assert "added guard check" in html and "Disk alert" in html
    assert f">PM-2024-001 {VALID['title']}</a>" in html  # the postmortem by key and title
    reviewer = make_user(Role.REVIEWER)
    db.commit()
    assert sign_in(app.test_client(), reviewer).get("/audit/").status_code == 403


def test_two_people_edit_at_once_and_the_second_save_is_refused_with_both_texts(app, db) -> None:
    from tests.factories import make_incident

    first_person, second_person = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    incident = make_incident(
        "Disk filled up", what_happened_md="Original text.", status=IncidentStatus.PUBLISHED
    )
    db.commit()
    first = Browser(sign_in(app.test_client(), first_person))
    second = Browser(sign_in(app.test_client(), second_person))
    url = f"/incidents/{incident.id}/edit"
    first_form, second_form = first.get(url), second.get(url)  # both open the form
    assert first_form.status_code == second_form.status_code == 200
    opened = str(incident.version)  # the version both forms were opened on
    saved = first.submit(
        url, {**VALID, "what_happened_md": "First person's text.", "version": opened}
    )
    assert saved.status_code == 302
    refused = second.submit(
        url, {**VALID, "what_happened_md": "Second person's text.", "version": opened}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Someone else saved this postmortem" in html
    assert "First person&#39;s text." in html  # the saved version, shown
    assert "Second person&#39;s text.</textarea>" in html  # the second text, kept in the form
    assert db.get(Incident, incident.id).what_happened_md == "First person's text."
    assert field_errors(html, "title") == []
    resaved = second.submit(
        url, {**VALID, "what_happened_md": "Second person's text.", "version": str(int(opened) + 1)}
    )
    assert resaved.status_code == 302
    assert db.get(Incident, incident.id).what_happened_md == "Second person's text."


def test_two_people_edit_the_same_lesson_and_the_second_save_is_refused(app, db) -> None:
    from models import Lesson, LessonGroup
    from tests.factories import make_incident

    incident = make_incident("Disk filled up", status=IncidentStatus.PUBLISHED)
    incident.lessons.append(Lesson(group=LessonGroup.TECHNICAL, text_md="Rotate logs."))
    first_person, second_person = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    db.commit()
    url = f"/incidents/{incident.id}/lessons/{incident.lessons[0].id}/edit"
    first = Browser(sign_in(app.test_client(), first_person))
    second = Browser(sign_in(app.test_client(), second_person))
    stale_page = second.open_page(url)  # the second person opens the form first
    first.submit(url, {"group": "TECHNICAL", "text_md": "Rotate logs daily."})
    version = re.search(r'name="version" type="hidden" value="(\d+)"', stale_page).group(1)
    refused = second.submit(
        url, {"group": "PERSONAL", "text_md": "Rotate logs hourly.", "version": version}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Someone else saved this lesson" in html
    assert "Rotate logs daily." in html and "Rotate logs hourly.</textarea>" in html
    lesson = db.get(Lesson, incident.lessons[0].id)
    assert lesson.text_md == "Rotate logs daily." and lesson.group is LessonGroup.TECHNICAL


def test_the_diff_names_owners_not_their_account_numbers(browser, db) -> None:
    owner = make_user(Role.AUTHOR, "owner@example.com")
    owner.name = "Olga Owner"
    db.commit()
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    edit(browser, incident.id, owner_id=str(owner.id))
    html = browser.get(f"/incidents/{incident.id}/history?a=1&b=2").get_data(as_text=True)
    assert '<span class="diff-add">+Owner: Olga Owner</span>' in html


def test_restore_asks_first_and_a_get_changes_nothing(browser, db) -> None:
    from tests.factories import make_incident

    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    browser.submit(url, {**VALID, "title": "Renamed once"})
    browser.submit(url, {**VALID, "title": "Renamed twice"})
    first = db.scalars(
        select(IncidentRevision.number).where(IncidentRevision.incident_id == incident.id)
    ).first()
    page = browser.get(f"/incidents/{incident.id}/history/{first}/restore").get_data(as_text=True)
    assert f"Restore revision {first}?" in page
    assert db.get(Incident, incident.id).title == "Renamed twice"


def test_the_diff_shows_every_changed_field_of_every_part(browser, db) -> None:
    """Issue 20: an impact's note and who estimated it, an action item's details, reason,
    days and tracker, the team, and the near-miss and metrics switches all show when changed."""
    from tests.factories import make_team

    team = make_team("Payments")
    db.commit()
    browser.submit("/incidents/new", VALID)
    incident = db.scalars(select(Incident)).one()
    browser.submit(
        f"/incidents/{incident.id}/impacts/new",
        {"kind": "DOWNTIME", "likely": "4", "unit": "hours", "method_note": "From the logs."},
    )
    impact = incident.impacts[0]
    browser.submit(
        f"/incidents/{incident.id}/impacts/{impact.id}/edit",
        {
            "kind": "DOWNTIME",
            "likely": "4",
            "unit": "hours",
            "method_note": "From the logs.\nChecked against the status page.",
            "estimated_by": "SRE on call",
        },
    )
    url = f"/incidents/{incident.id}/edit"
    assert (
        browser.submit_filled(url, {"team_id": str(team.id), "is_near_miss": "y"}).status_code
        == 302
    )
    revisions = db.scalars(select(IncidentRevision).order_by(IncidentRevision.number)).all()
    assert len(revisions) == 4, [r.summary for r in revisions]
    html = browser.get(f"/incidents/{incident.id}/history?a=2&b=3").get_data(as_text=True)
    assert '<span class="diff-remove">-    How it was estimated: From the logs.</span>' not in html
    assert '<span class="diff-add">+      Checked against the status page.</span>' in html
    assert '<span class="diff-add">+    Estimated by: SRE on call</span>' in html
    html = browser.get(f"/incidents/{incident.id}/history?a=3&b=4").get_data(as_text=True)
    assert '<span class="diff-add">+Team: Payments</span>' in html
    assert '<span class="diff-add">+Near-miss: yes</span>' in html
