"""The review round as people live it (issue 20): filing and submitting in one step, a refused
step answered beside the comment box with the comment kept, a send-back that lands the reviewer
on their queue and puts the comment first in front of the author; the form's required marker
on its label's line."""

import re
from datetime import date

from sqlalchemy import select

from models import Incident, IncidentStatus, ReviewAction, Role
from tests.auth.world import with_parts
from tests.conftest import Browser, field_errors, make_user, sign_in
from tests.factories import make_guard, make_incident, make_team


def as_(app, user) -> Browser:
    return Browser(sign_in(app.test_client(), user))


def _people(db) -> dict:
    people = {role: make_user(Role[role.upper()]) for role in ("author", "reviewer")}
    db.commit()
    return people


def _in_review(db, author, **fields) -> Incident:
    incident = with_parts(
        make_incident("Queue stalled", author_id=author.id, **fields),
        make_guard("Queue depth monitor"),
    )
    incident.status = IncidentStatus.IN_REVIEW
    db.commit()
    return incident


def step(browser: Browser, incident, name: str, text: str = ""):
    return browser.submit(
        f"/incidents/{incident.id}", {"text": text}, action=f"/incidents/{incident.id}/{name}"
    )


def test_file_and_submit_for_review_is_one_step(app, db) -> None:
    author = _people(db)["author"]
    browser = as_(app, author)
    assert "File and submit for review" in browser.open_page("/incidents/new")
    typed = {"title": "Backups silently skipped", "started_at": "2024-05-01T09:00"}
    response = browser.submit("/incidents/new", {**typed, "then": "submit"})
    assert response.status_code == 302
    incident = db.scalar(select(Incident).where(Incident.title == "Backups silently skipped"))
    assert incident.status is IncidentStatus.IN_REVIEW
    assert [c.action for c in incident.review_comments] == [ReviewAction.SUBMITTED]
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "filed and submitted for review" in page


def test_a_draft_is_saved_and_submitted_in_one_step_and_only_a_draft(app, db) -> None:
    author = _people(db)["author"]
    draft = make_incident("Queue stalled", author_id=author.id)
    db.commit()
    browser = as_(app, author)
    url = f"/incidents/{draft.id}/edit"
    assert "Save and submit for review" in browser.open_page(url)
    saved = browser.submit(url, {"title": "Queue stalled twice", "then": "submit"})
    assert saved.status_code == 302
    db.refresh(draft)
    assert (draft.title, draft.status) == ("Queue stalled twice", IncidentStatus.IN_REVIEW)
    reviewer = as_(app, make_user(Role.REVIEWER))
    db.commit()
    # A reviewer editing it in review is offered no second submit, and a forged one is ignored.
    assert "Save and submit for review" not in reviewer.open_page(url)
    assert reviewer.submit(url, {"title": "Queue stalled", "then": "submit"}).status_code == 302
    db.refresh(draft)
    assert draft.status is IncidentStatus.IN_REVIEW
    assert [c.action for c in draft.review_comments] == [ReviewAction.SUBMITTED]


def test_a_refused_file_and_submit_files_nothing(app, db) -> None:
    browser = as_(app, _people(db)["author"])
    response = browser.submit("/incidents/new", {"title": "", "then": "submit"})
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "title")
    assert db.scalar(select(Incident)) is None


def test_send_back_without_a_comment_answers_beside_the_box(app, db) -> None:
    people = _people(db)
    incident = _in_review(db, people["author"])
    response = step(as_(app, people["reviewer"]), incident, "send-back", "   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_errors(html, "text") == [
        "Say what needs to change when sending a postmortem back."
    ]
    assert 'aria-describedby="text-errors"' in html
    # Each step's URL brings the browser back to the form, scrolled to the box.
    assert f'formaction="/incidents/{incident.id}/send-back#review-form"' in html
    assert 'id="review-form"' in html
    db.refresh(incident)
    assert incident.status is IncidentStatus.IN_REVIEW


def test_a_refused_publish_keeps_the_comment_and_lists_what_is_missing(app, db) -> None:
    people = _people(db)
    bare = make_incident("Bare", author_id=people["author"].id, status=IncidentStatus.IN_REVIEW)
    db.commit()
    response = step(as_(app, people["reviewer"]), bare, "publish", "Clear <and> blameless.")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html, "text")
    assert errors[0] == "This postmortem cannot be published yet."
    assert "Write at least one lesson." in errors
    textarea = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea and textarea.group(1).strip() == "Clear &lt;and&gt; blameless."


def test_sending_back_lands_the_reviewer_on_their_queue_with_it_listed(app, db) -> None:
    people = _people(db)
    incident = _in_review(db, people["author"])
    reviewer = as_(app, people["reviewer"])
    response = step(reviewer, incident, "send-back", "Name the second factor.")
    assert response.status_code == 302
    assert response.headers["Location"] == "/#sent-back-by-me"
    home = reviewer.get("/").get_data(as_text=True)
    assert "Not found" not in home
    assert f"Postmortem {incident.key} sent back to draft." in home
    listed = home.split('id="sent-back-by-me"', 1)[1].split("</ul>", 1)[0]
    assert f"{incident.key} Queue stalled" in listed and "Name the second factor." in listed
    # Submitted again, it leaves that list and is back in the queue.
    step(as_(app, people["author"]), incident, "submit", "Added it.")
    home = reviewer.get("/").get_data(as_text=True)
    assert 'id="sent-back-by-me"' not in home
    assert f"{incident.key} Queue stalled" in home.split('id="to-review"', 1)[1]


def test_an_admin_who_sends_back_stays_on_the_draft(app, db) -> None:
    people = _people(db)
    incident = _in_review(db, people["author"])
    admin = as_(app, make_user(Role.ADMIN))
    db.commit()
    response = step(admin, incident, "send-back", "More detail.")
    assert response.headers["Location"] == f"/incidents/{incident.id}#review"


def test_the_author_reads_the_send_back_first_and_the_home_page_says_so(app, db) -> None:
    people = _people(db)
    incident = _in_review(db, people["author"])
    step(as_(app, people["reviewer"]), incident, "send-back", "Name the second factor.")
    author = as_(app, people["author"])
    page = author.get(f"/incidents/{incident.id}").get_data(as_text=True)
    note = page.index('id="sent-back"')
    assert note < page.index('id="checklist"') < page.index('id="timeline"')
    assert "Name the second factor." in page[note : page.index('id="checklist"')]
    home = author.get("/").get_data(as_text=True)
    drafts = home.split('id="drafts"', 1)[1].split("</section>", 1)[0]
    assert 'class="badge sent-back"' in drafts
    assert f"/incidents/{incident.id}#sent-back" in drafts
    # Submitted again, the note and the badge are gone.
    step(author, incident, "submit", "Added it.")
    page = author.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'id="sent-back"' not in page
    assert 'class="badge sent-back"' not in author.get("/").get_data(as_text=True)


def test_a_restricted_draft_is_not_named_to_a_reviewer_who_left_its_team(app, db) -> None:
    people = _people(db)
    team, other = make_team("Payments"), make_team("Search")
    reviewer = people["reviewer"]
    reviewer.team_id = team.id
    incident = _in_review(db, people["author"], team_id=team.id, is_restricted=True)
    step(as_(app, reviewer), incident, "send-back", "Name the second factor.")
    assert incident.key in as_(app, reviewer).get("/").get_data(as_text=True)
    reviewer.team_id = other.id
    db.commit()
    home = as_(app, reviewer).get("/").get_data(as_text=True)
    assert incident.key not in home and "Queue stalled" not in home


def test_the_required_marker_sits_inside_its_label(app, db) -> None:
    html = as_(app, _people(db)["author"]).open_page("/incidents/new")
    assert (
        '<div class="label-line"><label for="title">Title</label>'
        '<span class="required-mark" aria-hidden="true"> *</span></div>'
    ) in html


def test_a_new_admin_is_told_where_to_start_and_the_list_goes_when_done(app, db) -> None:
    from models import GrowthStage, HeadcountSnapshot
    from tests.factories import make_team

    admin = make_user(Role.ADMIN)
    db.commit()
    home = as_(app, admin).get("/").get_data(as_text=True)
    start = home.split('id="start-here"', 1)[1].split("</section>", 1)[0]
    for link in ("/teams/new", "/teams/", "/teams/stages/new", "/users/new", "/incidents/new"):
        assert f'href="{link}"' in start, link
    team = make_team("Payments")
    db.add(HeadcountSnapshot(team_id=team.id, on_date=date(2024, 1, 1), headcount=5))
    db.add(GrowthStage(name="Founding", min_headcount=0, max_headcount=10))
    make_user(Role.AUTHOR)
    db.commit()
    home = as_(app, admin).get("/").get_data(as_text=True)
    start = home.split('id="start-here"', 1)[1].split("</section>", 1)[0]
    assert start.count("done</span>") == 4 and 'href="/incidents/new"' in start
    make_incident("First", author_id=admin.id)
    db.commit()
    assert 'id="start-here"' not in as_(app, admin).get("/").get_data(as_text=True)
    # Nobody but an admin is given the list.
    assert 'id="start-here"' not in as_(app, make_user(Role.AUTHOR)).get("/").get_data(as_text=True)
