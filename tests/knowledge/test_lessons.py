"""The lessons page: every lesson by group and by contributing factor, linked to its
postmortem, hidden ones left out, bounded pages."""

from models import IncidentFactor, IncidentStatus, Lesson, LessonGroup, Role
from postmortems.knowledge import service
from tests.conftest import make_user, sign_in
from tests.factories import factor_named, make_incident, utc

PUBLISHED = IncidentStatus.PUBLISHED


def lesson(incident, group: LessonGroup, text: str) -> None:
    incident.lessons.append(Lesson(group=group, text_md=text))


def test_lessons_are_grouped_and_link_to_their_postmortem(db, client):
    incident = make_incident("Threshold", utc(2020, 8, 17), status=PUBLISHED)
    incident.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    lesson(incident, LessonGroup.TECHNICAL, "Run **every** test")
    lesson(incident, LessonGroup.PERSONAL, "No big decisions when exhausted")
    lesson(incident, LessonGroup.PROCESS_COMMUNICATION, "Rules bind everyone")
    db.commit()
    html = client.get("/lessons").get_data(as_text=True)
    technical = html.split('id="group-technical"')[1].split("</section>")[0]
    personal = html.split('id="group-personal"')[1].split("</section>")[0]
    process = html.split('id="group-process_communication"')[1].split("</section>")[0]
    assert "Run <strong>every</strong> test" in technical
    assert "No big decisions" in personal and "Rules bind everyone" in process
    assert f'href="/incidents/{incident.id}#lessons"' in technical
    by_factor = html.split('id="by-factor"')[1]
    fatigue = factor_named("Fatigue")
    assert f'href="/lessons?factor={fatigue.id}"' in by_factor


def test_lessons_of_one_factor(db, client):
    tired = make_incident("Tired", status=PUBLISHED)
    tired.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    lesson(tired, LessonGroup.PERSONAL, "Sleep first")
    other = make_incident("Other", status=PUBLISHED)
    lesson(other, LessonGroup.PERSONAL, "Unrelated lesson")
    db.commit()
    html = client.get(f"/lessons?factor={factor_named('Fatigue').id}").get_data(as_text=True)
    assert "Sleep first" in html and "Unrelated lesson" not in html
    assert client.get("/lessons?factor=999999").status_code == 404
    assert client.get("/lessons?factor=x").status_code == 404


def test_hidden_postmortems_lessons_stay_hidden(app, db):
    secret = make_incident("Secret", status=PUBLISHED, is_restricted=True)
    secret.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    lesson(secret, LessonGroup.TECHNICAL, "Secret lesson")
    draft = make_incident("Draft")
    lesson(draft, LessonGroup.TECHNICAL, "Draft lesson")
    shown = make_incident("Shown", status=PUBLISHED)
    lesson(shown, LessonGroup.TECHNICAL, "Public lesson")
    reader = make_user(Role.READER)
    db.commit()
    html = sign_in(app.test_client(), reader).get("/lessons").get_data(as_text=True)
    assert "Public lesson" in html
    assert "Secret lesson" not in html and "Draft lesson" not in html


def test_each_group_shows_a_bounded_page_with_a_link_to_the_next(db, client, monkeypatch):
    monkeypatch.setattr(service, "LESSONS_PER_GROUP", 3)
    for n in range(7):
        incident = make_incident(f"Incident {n}", utc(2020, 1, 1 + n), status=PUBLISHED)
        lesson(incident, LessonGroup.TECHNICAL, f"Lesson number {n}")
    db.commit()
    first = client.get("/lessons").get_data(as_text=True)
    assert "Lesson number 6" in first and "Lesson number 3" not in first
    assert "/lessons?group=TECHNICAL&amp;page=2" in first
    third = client.get("/lessons?group=TECHNICAL&page=3").get_data(as_text=True)
    assert "Lesson number 0" in third and "Lesson number 1" not in third
