"""Filing a whole postmortem on one page, by plain forms: the incident and its parts saved
together as one revision; rows left empty are skipped; a bad row is answered beside it."""

from datetime import date

from sqlalchemy import func, select

from models import (
    ActionItem,
    GuardCheck,
    ImpactEstimate,
    Incident,
    IncidentFactor,
    IncidentRevision,
    Lesson,
    Role,
    TimelineEvent,
)
from tests.conftest import CSRF_PATTERN, HIDDEN_PATTERN, field_errors, make_user
from tests.factories import factor_named, make_guard, make_incident, make_team

FILING = {"title": "Threshold change broke masks", "started_at": "2024-03-01T10:00"}


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _typed_rows() -> dict[str, str]:
    """A realistic postmortem's parts, typed into the rows of the one page."""
    return {
        "timeline-0-at": "2024-03-01T10:00",
        "timeline-0-text_md": "Change merged with the test override.",
        "timeline-1-at": "2024-03-03T11:00",
        "timeline-1-text_md": "Garbage predictions seen in the stream.",
        "timeline-2-at": "2024-03-03T14:00",
        "timeline-2-text_md": "Change undone.",
        "factors-0-factor_id": str(factor_named("Tangled code and configs").id),
        "factors-0-is_primary": "y",
        "factors-1-factor_id": str(factor_named("Rules not followed").id),
        "impacts-0-kind": "ITEMS_PROCESSED_WRONGLY",
        "impacts-0-likely": "1500",
        "impacts-0-unit": "images",
        "impacts-1-kind": "LOST_REVENUE",
        "impacts-1-low": "0",
        "impacts-1-likely": "0",
        "impacts-1-high": "0",
        "impacts-1-currency": "RUB",
        "lessons-0-group": "TECHNICAL",
        "lessons-0-text_md": "Name config keys so that each means one thing.",
        "actions-0-title": "Split the config key",
        "actions-0-type": "PREVENTIVE",
        "actions-0-group": "TECHNICAL",
        "actions-0-new_guard_name": "Config keys mean one thing",
        "actions-0-new_guard_kind": "REVIEW_RULE",
    }


def test_a_whole_postmortem_is_filed_in_a_handful_of_page_loads_without_javascript(
    client, db
) -> None:
    loads = 0

    def load(response):  # noqa: ANN001, ANN202 - a page the person sees
        nonlocal loads
        loads += 1
        return response

    page = load(client.get("/incidents/new")).get_data(as_text=True)
    typed = {**FILING, **_typed_rows()}
    # "Add another" for the second and third timeline events, factor and impact.
    for kind in ("timeline", "timeline", "factors", "impacts"):
        token = CSRF_PATTERN.search(page).group(1)
        page = load(
            client.post("/incidents/new", data={**typed, "csrf_token": token, "add_row": kind})
        ).get_data(as_text=True)
        assert "timeline-0-text_md" in page and typed["timeline-0-text_md"] in page  # kept
    token = CSRF_PATTERN.search(page).group(1)
    saved = load(client.post("/incidents/new", data={**typed, "csrf_token": token}))
    assert saved.status_code == 302
    load(client.get(saved.headers["Location"]))
    assert loads <= 7
    incident = db.scalars(select(Incident)).one()
    assert [e.text_md for e in incident.timeline][0] == "Change merged with the test override."
    assert (_count(db, TimelineEvent), _count(db, IncidentFactor)) == (3, 2)
    assert (_count(db, ImpactEstimate), _count(db, Lesson), _count(db, ActionItem)) == (2, 1, 1)
    assert db.scalars(select(GuardCheck.name)).all() == ["Config keys mean one thing"]
    assert db.scalars(select(ActionItem)).one().guards[0].name == "Config keys mean one thing"
    assert _count(db, IncidentRevision) == 1  # one save, one revision


def test_a_bad_row_is_answered_beside_it_and_nothing_is_saved(browser, db) -> None:
    rows = {
        "timeline-0-at": "2024-03-01T10:00",
        "timeline-0-text_md": "Started.",
        "impacts-0-kind": "LOST_REVENUE",
        "impacts-0-low": "5",
        "impacts-0-likely": "1",
        "impacts-0-currency": "EUR",
    }
    html = browser.submit("/incidents/new", {**FILING, **rows}).get_data(as_text=True)
    assert field_errors(html, "impacts-0-low") == ["Low cannot be above likely."]
    assert "Started." in html  # what was typed is kept
    assert _count(db, Incident) == 0 and _count(db, TimelineEvent) == 0


def test_a_half_filled_row_asks_for_the_rest(browser, db) -> None:
    rows = {"timeline-0-text_md": "When was this?"}
    html = browser.submit("/incidents/new", {**FILING, **rows}).get_data(as_text=True)
    assert field_errors(html, "timeline-0-at") == ["Fill this in, or leave the whole row empty."]
    assert _count(db, Incident) == 0


def test_editing_adds_parts_and_keeps_the_saved_ones(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    browser.submit(
        url,
        {
            **FILING,
            "lessons-0-group": "PROCESS_COMMUNICATION",
            "lessons-0-text_md": "First lesson.",
        },
    )
    response = browser.submit_filled(url, {"lessons-1-text_md": "Second lesson."})
    assert response.status_code == 302
    texts = sorted(db.scalars(select(Lesson.text_md)).all())
    assert texts == ["First lesson.", "Second lesson."]


def test_saving_the_page_unchanged_changes_no_part(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    assert browser.submit(url, {**FILING, **_typed_rows()}).status_code == 302
    counts = [
        _count(db, m)
        for m in (TimelineEvent, IncidentFactor, ImpactEstimate, Lesson, ActionItem, GuardCheck)
    ]
    versions = sorted(db.scalars(select(Lesson.version)).all())
    assert browser.submit_filled(url, {}).status_code == 302
    assert counts == [
        _count(db, m)
        for m in (TimelineEvent, IncidentFactor, ImpactEstimate, Lesson, ActionItem, GuardCheck)
    ]
    assert sorted(db.scalars(select(Lesson.version)).all()) == versions


def test_saved_parts_are_edited_and_removed_in_place_in_one_revision(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    assert browser.submit(url, {**FILING, **_typed_rows()}).status_code == 302
    revisions = _count(db, IncidentRevision)
    page = browser.get(url).get_data(as_text=True)
    assert 'name="timeline-0-id"' in page and "Remove when saving" in page
    response = browser.submit_filled(
        url,
        {
            "timeline-1-text_md": "Garbage predictions seen by a customer.",
            "timeline-2-remove": "y",
            "impacts-0-likely": "1600",
            "actions-0-status": "DONE",
            "actions-0-completed_on": "2024-03-10",
            "lessons-1-text_md": "A new lesson beside the saved one.",
        },
    )
    assert response.status_code == 302
    events = db.scalars(select(TimelineEvent.text_md).order_by(TimelineEvent.at)).all()
    assert events == [
        "Change merged with the test override.",
        "Garbage predictions seen by a customer.",
    ]
    assert str(
        db.scalar(select(ImpactEstimate.likely).where(ImpactEstimate.unit == "images"))
    ).startswith("1600")
    item = db.scalars(select(ActionItem)).one()
    assert item.status.name == "DONE" and str(item.completed_on) == "2024-03-10"
    assert [g.name for g in item.guards] == ["Config keys mean one thing"]  # kept, not lost
    assert _count(db, Lesson) == 2
    assert _count(db, IncidentRevision) == revisions + 1


def test_a_saved_row_emptied_asks_for_the_text_or_remove(browser, db) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    assert browser.submit(url, {**FILING, **_typed_rows()}).status_code == 302
    html = browser.submit_filled(url, {"lessons-0-text_md": ""}).get_data(as_text=True)
    assert field_errors(html, "lessons-0-text_md") == ["Fill this in, or tick Remove to delete it."]
    assert db.scalars(select(Lesson.text_md)).all() == [
        "Name config keys so that each means one thing."
    ]


def test_a_part_changed_by_someone_else_meanwhile_is_a_conflict_that_keeps_the_text(
    browser, db
) -> None:
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    assert browser.submit(url, {**FILING, **_typed_rows()}).status_code == 302
    page = browser.get(url).get_data(as_text=True)
    lesson = db.scalars(select(Lesson)).one()
    lesson.text_md = "Changed in another tab."
    db.commit()
    # The page opened before that change is sent now.
    from tests.conftest import FilledForm

    payload = dict(FilledForm(page).fields)
    payload["lessons-0-text_md"] = "My wording."
    response = browser.client.post(url, data=payload)
    assert response.status_code == 409
    assert "My wording." in response.get_data(as_text=True)
    assert db.scalars(select(Lesson.text_md)).all() == ["Changed in another tab."]


def test_the_one_page_form_carries_its_version_and_hidden_fields(browser) -> None:
    html = browser.get("/incidents/new").get_data(as_text=True)
    form = html.split('<form method="post" class="form"', 1)[1].split("</form>", 1)[0]
    assert "csrf_token" in dict(HIDDEN_PATTERN.findall(form))
    assert 'name="add_row" value="timeline"' in form


def test_preview_renders_a_section_as_the_page_will_without_saving(browser, db) -> None:
    typed = {**FILING, "what_happened_md": "**bold** <script>x</script>"}
    html = browser.submit("/incidents/new", {**typed, "preview": "what_happened_md"}).get_data(
        as_text=True
    )
    preview = html.split('id="what_happened_md-preview"', 1)[1].split("</div>", 2)[0]
    assert "<strong>bold</strong>" in preview and "<script>" not in preview
    assert _count(db, Incident) == 0


def test_the_preview_endpoint_answers_htmx_with_the_sanitised_html(browser) -> None:
    token = CSRF_PATTERN.search(browser.get("/incidents/new").get_data(as_text=True)).group(1)
    response = browser.client.post(
        "/incidents/preview",
        data={"csrf_token": token, "field": "lessons-0-text_md", "lessons-0-text_md": "*x*"},
    )
    assert response.status_code == 200
    assert "<em>x</em>" in response.get_data(as_text=True)


def test_a_row_with_only_white_space_is_empty(browser, db) -> None:
    rows = {"timeline-0-text_md": "\r\n  ", "lessons-0-text_md": "\n"}
    assert browser.submit("/incidents/new", {**FILING, **rows}).status_code == 302
    assert _count(db, TimelineEvent) == 0 and _count(db, Lesson) == 0


def test_the_forms_choices_are_kept_until_a_change_and_a_change_shows_next_time(db, client):
    """The teams, people, factors and guard checks the form offers are kept between requests
    (every form shows them); a change to any of them shows on the next form."""
    page = client.get("/incidents/new").get_data(as_text=True)
    assert "Canary deploy gate" not in page and "Platform team" not in page
    make_guard("Canary deploy gate")
    make_team("Platform team", [(date(2024, 1, 1), 5)])
    make_user(Role.AUTHOR, "new-author@example.com").name = "Nadia New"
    db.commit()
    page = client.get("/incidents/new").get_data(as_text=True)
    assert "Canary deploy gate" in page and "Platform team" in page and "Nadia New" in page
    factor_named("Tangled code and configs").name = "Tangled configuration"
    db.commit()
    assert "Tangled configuration" in client.get("/incidents/new").get_data(as_text=True)
