"""The review workflow through the pages: submit, publish or send back, archive."""

import pytest

from models import ActionItem, ActionType, IncidentStatus, LessonGroup, ReviewAction, Role, Severity
from tests.auth.world import with_parts
from tests.conftest import Browser, make_user, new_app, sign_in
from tests.factories import make_guard, make_incident


@pytest.fixture
def people(db):
    people = {role: make_user(Role[role.upper()]) for role in ("author", "reviewer", "reader")}
    db.commit()
    return people


@pytest.fixture
def draft(db, people):
    incident = with_parts(
        make_incident("Queue stalled", author_id=people["author"].id),
        make_guard("Queue depth monitor"),
    )
    db.commit()
    return incident


def as_(app, user) -> Browser:
    return Browser(sign_in(app.test_client(), user))


def step(browser: Browser, incident, name: str, text: str = "") -> object:
    return browser.submit(
        f"/incidents/{incident.id}",
        {"text": text},
        action=f"/incidents/{incident.id}/{name}",
        follow=True,
    )


def test_author_submits_and_another_reviewer_publishes(app, db, people, draft) -> None:
    step(as_(app, people["author"]), draft, "submit", "Ready, I think.")
    db.refresh(draft)
    assert draft.status is IncidentStatus.IN_REVIEW
    html = step(as_(app, people["reviewer"]), draft, "publish", "Clear and blameless.")
    assert "published" in html.get_data(as_text=True)
    db.refresh(draft)
    assert draft.status is IncidentStatus.PUBLISHED
    assert [(c.action, c.text) for c in draft.review_comments] == [
        (ReviewAction.SUBMITTED, "Ready, I think."),
        (ReviewAction.PUBLISHED, "Clear and blameless."),
    ]
    assert "Queue stalled" in as_(app, people["reader"]).get("/incidents/").get_data(as_text=True)


def test_a_reader_does_not_see_drafts_or_postmortems_in_review(app, people, draft) -> None:
    reader = as_(app, people["reader"])
    assert "Queue stalled" not in reader.get("/incidents/").get_data(as_text=True)
    step(as_(app, people["author"]), draft, "submit")
    assert "Queue stalled" not in reader.get("/incidents/").get_data(as_text=True)


def test_the_author_cannot_publish_their_own_postmortem(app, db, people, draft) -> None:
    reviewer_author = make_user(Role.REVIEWER)
    draft.author_id = reviewer_author.id
    db.commit()
    browser = as_(app, reviewer_author)
    step(browser, draft, "submit")
    response = browser.submit(f"/incidents/{draft.id}", {}, action=f"/incidents/{draft.id}/publish")
    assert response.status_code == 403
    db.refresh(draft)
    assert draft.status is IncidentStatus.IN_REVIEW


def test_publishing_refuses_and_lists_what_is_missing(app, db, people) -> None:
    bare = make_incident("Bare", author_id=people["author"].id, severity=Severity.SEV1)
    bare.action_items.append(
        ActionItem(title="Unguarded fix", group=LessonGroup.TECHNICAL, type=ActionType.PREVENTIVE)
    )
    db.commit()
    step(as_(app, people["author"]), bare, "submit")
    html = step(as_(app, people["reviewer"]), bare, "publish").get_data(as_text=True)
    for missing in (
        "Name at least one contributing factor.",
        "Estimate at least one impact.",
        "Write at least one lesson.",
        "Link the preventive action item “Unguarded fix”",
    ):
        assert missing in html
    db.refresh(bare)
    assert bare.status is IncidentStatus.IN_REVIEW


def test_the_publishing_rules_are_configurable(app_config, db) -> None:
    app = new_app(
        {
            **app_config,
            "PUBLISH_REQUIRES_IMPACT": False,
            "PUBLISH_REQUIRES_FACTOR": False,
            "PUBLISH_REQUIRES_LESSON": False,
            "PUBLISH_GUARDED_PREVENTIVE_SEVERITIES": (),
        }
    )
    from postmortems.db import session

    with app.app_context():
        author, reviewer = make_user(Role.AUTHOR), make_user(Role.REVIEWER)
        bare = make_incident("Bare", author_id=author.id, severity=Severity.SEV1)
        session.commit()
        step(as_(app, author), bare, "submit")
        step(as_(app, reviewer), bare, "publish")
        session.refresh(bare)
        assert bare.status is IncidentStatus.PUBLISHED
    app.extensions["db_engine"].dispose()


def test_sending_back_needs_a_comment_and_returns_it_to_draft(app, db, people, draft) -> None:
    step(as_(app, people["author"]), draft, "submit")
    reviewer = as_(app, people["reviewer"])
    html = step(reviewer, draft, "send-back", "  ").get_data(as_text=True)
    assert "Say what needs to change" in html
    step(reviewer, draft, "send-back", "Name the second factor.")
    db.refresh(draft)
    assert draft.status is IncidentStatus.DRAFT
    page = as_(app, people["author"]).get(f"/incidents/{draft.id}").get_data(as_text=True)
    assert "Sent back" in page and "Name the second factor." in page


def test_an_author_cannot_edit_while_in_review_but_can_after_send_back(app, people, draft) -> None:
    author = as_(app, people["author"])
    step(author, draft, "submit")
    assert author.get(f"/incidents/{draft.id}/edit").status_code == 403
    step(as_(app, people["reviewer"]), draft, "send-back", "More detail please.")
    assert author.get(f"/incidents/{draft.id}/edit").status_code == 200


def test_archive_a_published_postmortem(app, db, people, draft) -> None:
    step(as_(app, people["author"]), draft, "submit")
    reviewer = as_(app, people["reviewer"])
    step(reviewer, draft, "publish")
    asked = step(reviewer, draft, "archive", "Superseded by PM-2025-004.")
    assert "Archive " in asked.get_data(as_text=True)  # asks first, with the comment kept
    db.refresh(draft)
    assert draft.status is IncidentStatus.PUBLISHED
    reviewer.submit(
        f"/incidents/{draft.id}",
        {"text": "Superseded by PM-2025-004.", "confirm": "yes"},
        action=f"/incidents/{draft.id}/archive",
    )
    db.refresh(draft)
    assert draft.status is IncidentStatus.ARCHIVED


def test_a_step_from_the_wrong_status_is_refused_with_a_message(app, db, people, draft) -> None:
    draft.status = IncidentStatus.PUBLISHED
    db.commit()
    html = step(as_(app, people["reviewer"]), draft, "submit").get_data(as_text=True)
    assert "only a draft one can be submitted for review" in html
    db.refresh(draft)
    assert draft.status is IncidentStatus.PUBLISHED


def test_the_page_lists_what_publishing_still_needs(app, db, people) -> None:
    bare = make_incident("Bare", author_id=people["author"].id)
    db.commit()
    html = as_(app, people["author"]).get(f"/incidents/{bare.id}").get_data(as_text=True)
    assert "Before it can be published" in html and "Write at least one lesson." in html


def test_a_long_review_comment_is_kept_in_full(app, db, people, draft) -> None:
    comment = "Why the override was allowed. " * 400  # about 12 000 characters
    step(as_(app, people["author"]), draft, "submit", comment)
    db.refresh(draft)
    assert draft.status is IncidentStatus.IN_REVIEW
    assert draft.review_comments[0].text == comment.strip()
