"""Reading path pages end to end through the test client, forms with their CSRF tokens."""

from html import escape

import pytest
from sqlalchemy import select

from models import ReadingPath, ReadingPathItem, ReadingProgress, Role
from postmortems.paths.service import mark_read
from tests.conftest import Browser, field_errors, make_user, sign_in
from tests.factories import make_team
from tests.paths.conftest import make_path, old_account, published
from tests.test_markdown import XSS_PAYLOADS, assert_inert


def as_user(app, user) -> Browser:
    return Browser(sign_in(app.test_client(), user))


def item_order(html: str, keys: list[str]) -> list[str]:
    """The given keys in the order the path's list shows them."""
    listing = html.split('<ol class="path-items">', 1)[1].split("</ol>", 1)[0]
    return sorted((k for k in keys if k in listing), key=listing.index)


def test_an_admin_makes_a_path_and_adds_postmortems_by_key(browser, db) -> None:
    a, b = published("Config key meant two things", 1), published("Rounded probabilities", 2)
    db.commit()
    response = browser.submit(
        "/paths/new",
        {"title": "First week in ML", "description_md": "Read **these**", "for_new_users": "y"},
    )
    path = db.scalars(select(ReadingPath)).one()
    assert response.headers["Location"].endswith(f"/paths/{path.id}")
    assert path.for_new_users and path.created_by.email == "test-admin@example.com"
    page = f"/paths/{path.id}"
    for incident, note in ((a, "Why tests run on *every* change"), (b, "Contracts")):
        browser.submit(page, {"key": incident.key, "note_md": note}, action=f"{page}/items/new")
    html = browser.open_page(page)
    assert item_order(html, [b.key, a.key]) == [a.key, b.key]
    assert "<em>every</em>" in html and "<strong>these</strong>" in html
    assert "0 of 2 read" in html


def test_a_path_form_shows_errors_beside_the_fields_keeping_what_was_typed(browser, db) -> None:
    make_path("First week")
    db.commit()
    typed = {"title": "First week", "description_md": "My <long> description"}
    html = browser.submit("/paths/new", typed).get_data(as_text=True)
    assert field_errors(html, "title") == ["Another reading path has this title."]
    assert escape("My <long> description") in html and 'value="First week"' in html
    html = browser.submit("/paths/new", {"title": ""}).get_data(as_text=True)
    assert field_errors(html, "title") == ["Give the path a title."]
    assert (
        db.scalars(select(ReadingPath)).all() != []
        and len(db.scalars(select(ReadingPath)).all()) == 1
    )


def test_an_unknown_key_is_answered_beside_the_field_keeping_the_note(browser, db) -> None:
    path = make_path("First week")
    db.commit()
    page = f"/paths/{path.id}"
    response = browser.submit(
        page, {"key": "PM-1999-009", "note_md": "Because <reasons>"}, action=f"{page}/items/new"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, "key") == ["No postmortem has the key PM-1999-009."]
    assert 'value="PM-1999-009"' in html and escape("Because <reasons>") in html
    assert db.scalars(select(ReadingPathItem)).all() == []


def test_a_curator_reorders_edits_a_note_and_removes_an_item_after_asking(browser, db) -> None:
    a, b, c = published("A", 1), published("B", 2), published("C", 3)
    path = make_path("P", [a, b, c])
    db.commit()
    page = f"/paths/{path.id}"
    first, second, third = (item.id for item in path.items)
    browser.submit(page, {}, action=f"{page}/items/{third}/move/up")
    browser.submit(page, {}, action=f"{page}/items/{first}/move/down")
    assert item_order(browser.open_page(page), [a.key, b.key, c.key]) == [c.key, a.key, b.key]
    refused = browser.submit(page, {}, action=f"{page}/items/{second}/move/down", follow=True)
    assert f"{b.key} is already last on this path." in refused.get_data(as_text=True)

    browser.submit(f"{page}/items/{second}/edit", {"note_md": "A *better* reason"})
    assert "<em>better</em>" in browser.open_page(page)

    question = browser.open_page(f"{page}/items/{third}/delete")
    assert f"Remove {c.key} from this path?" in question
    assert len(db.scalars(select(ReadingPathItem)).all()) == 3  # asking removes nothing
    browser.submit(f"{page}/items/{third}/delete", {})
    assert [item.incident_id for item in db.scalars(select(ReadingPathItem))] == [a.id, b.id]


def test_deleting_a_path_asks_first(browser, db) -> None:
    path = make_path("P", [published("A", 1)])
    db.commit()
    assert "Delete the reading path “P”?" in browser.open_page(f"/paths/{path.id}/delete")
    assert db.scalars(select(ReadingPath)).all()
    response = browser.submit(f"/paths/{path.id}/delete", {})
    assert response.headers["Location"].endswith("/paths/")
    assert db.scalars(select(ReadingPath)).all() == []


def test_a_reader_marks_items_read_and_sees_their_progress(app, db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [a, b])
    reader = make_user(Role.READER)
    db.commit()
    browser = as_user(app, reader)
    page = f"/paths/{path.id}"
    first = path.items[0].id
    response = browser.submit(page, {}, action=f"{page}/items/{first}/read")
    assert response.headers["Location"].endswith(f"{page}#item-{first}")
    html = browser.open_page(page)
    assert "1 of 2 read" in html and "Mark unread" in html
    browser.submit(page, {}, action=f"{page}/items/{path.items[1].id}/read")
    assert "Finished: all 2 read" in browser.open_page(page)
    assert "finished" in browser.open_page("/paths/")
    browser.submit(page, {}, action=f"{page}/items/{first}/unread")
    assert "1 of 2 read" in browser.open_page(page)


def test_marking_with_htmx_answers_the_item_and_the_progress_in_place(app, db) -> None:
    path = make_path("P", [published("A", 1), published("B", 2)])
    reader = make_user(Role.READER)
    db.commit()
    browser = as_user(app, reader)
    page, item = f"/paths/{path.id}", path.items[1]
    token = browser.csrf_token(page)
    response = browser.client.post(
        f"{page}/items/{item.id}/read", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'<li id="item-{item.id}" class="path-item is-read">' in html
    assert '<span class="item-number">2.</span>' in html
    assert (
        'id="progress" class="path-progress" hx-swap-oob="true"' in html and "1 of 2 read" in html
    )


def test_a_reader_may_not_curate(app, db) -> None:
    path = make_path("P", [published("A", 1), published("B", 2)])
    reader = make_user(Role.READER)
    db.commit()
    browser = as_user(app, reader)
    page = f"/paths/{path.id}"
    html = browser.open_page(page)
    assert "Move up" not in html and "Add a postmortem" not in html and "Who is reading" not in html
    item = path.items[1].id
    assert browser.submit(page, {}, action=f"{page}/items/{item}/move/up").status_code == 403
    assert browser.get(f"{page}/items/{item}/delete").status_code == 403
    assert browser.get(f"{page}/readers").status_code == 403


def test_a_reviewer_curates_but_does_not_see_who_reads(app, db) -> None:
    path = make_path("P")
    incident = published("A", 1)
    reviewer = make_user(Role.REVIEWER)
    db.commit()
    browser = as_user(app, reviewer)
    page = f"/paths/{path.id}"
    browser.submit(page, {"key": incident.key, "note_md": ""}, action=f"{page}/items/new")
    assert incident.key in browser.open_page(page)
    assert browser.get(f"{page}/readers").status_code == 403


def test_a_postmortem_the_reader_may_not_see_is_hidden_and_not_counted(app, db) -> None:
    shown, secret = published("Shown", 1), published("Secret outage", 2, is_restricted=True)
    path = make_path("P", [shown, secret])
    reader = make_user(Role.READER)
    db.commit()
    browser = as_user(app, reader)
    page = f"/paths/{path.id}"
    html = browser.open_page(page)
    assert "Secret outage" not in html and secret.key not in html and "Why 2" not in html
    assert "0 of 1 read" in html and "may not see" not in html
    hidden_item = path.items[1].id
    assert browser.submit(page, {}, action=f"{page}/items/{hidden_item}/read").status_code == 404
    assert browser.get(f"{page}/items/{hidden_item}/edit").status_code in (403, 404)
    for kind in ("html", "md"):
        assert "Secret outage" not in browser.get(f"{page}/booklet.{kind}").get_data(as_text=True)
    assert db.scalars(select(ReadingProgress)).all() == []
    admin_html = as_user(app, make_user(Role.ADMIN)).open_page(page)
    assert "Secret outage" in admin_html and "0 of 2 read" in admin_html


def test_a_reviewer_is_told_how_many_items_they_may_not_see(app, db) -> None:
    path = make_path("P", [published("Shown", 1), published("Secret", 2, is_restricted=True)])
    reviewer = make_user(Role.REVIEWER)
    db.commit()
    html = as_user(app, reviewer).open_page(f"/paths/{path.id}")
    assert "1 more on this path is a postmortem you may not see." in html and "Secret" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/paths/999999",
        "/paths/99999999999",
        "/paths/999999/edit",
        "/paths/999999/booklet.pdf",
        "/paths/999999/readers",
        "/paths/{path}/items/999999/edit",
        "/paths/{path}/items/{other_item}/edit",
        "/paths/{path}/items/{other_item}/delete",
        "/paths/{path}/booklet.docx",
    ],
)
def test_unknown_paths_and_items_answer_404(client, db, url) -> None:
    path = make_path("P", [published("A", 1)])
    other = make_path("Other", [published("B", 2)])
    db.commit()
    response = client.get(url.format(path=path.id, other_item=other.items[0].id))
    assert response.status_code == 404


def test_marking_an_unknown_item_answers_404(browser, db) -> None:
    path = make_path("P", [published("A", 1)])
    db.commit()
    page = f"/paths/{path.id}"
    assert browser.submit(page, {}, action=f"{page}/items/999999/read").status_code == 404


def test_admins_see_who_finished_and_who_started(app, client, db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [a, b])
    done = make_user(Role.READER)
    done.name = "Dana Done"
    halfway = make_user(Role.READER)
    halfway.name = "Hal Halfway"
    for item in path.items:
        mark_read(done, item)
    mark_read(halfway, path.items[1])
    db.commit()
    html = client.get(f"/paths/{path.id}/readers").get_data(as_text=True)
    assert "1 finished, 1 started." in html
    assert html.index("Dana Done") < html.index("Hal Halfway")
    assert "2 of 2" in html and "1 of 2" in html


def test_a_new_users_home_page_offers_the_paths_meant_for_them(app, db) -> None:
    ml = make_team("ML")
    incident = published("A", 1)
    make_path("Start here", [incident], for_new_users=True)
    make_path("ML first week", [incident], team_id=ml.id)
    make_path("Web first week", [incident], team_id=make_team("Web").id)
    newcomer = make_user(Role.READER, team_id=ml.id)
    db.commit()
    html = as_user(app, newcomer).open_page("/")
    assert "reading paths for you" in html
    assert "Start here" in html and "ML first week" in html and "Web first week" not in html
    listing = as_user(app, newcomer).open_page("/paths/")
    assert listing.count("for you</span>") == 2


def test_someone_who_has_read_and_joined_long_ago_is_offered_nothing(app, db) -> None:
    path = make_path("Start here", [published("A", 1)], for_new_users=True)
    veteran = old_account()
    mark_read(veteran, path.items[0])
    db.commit()
    assert "reading paths for you" not in as_user(app, veteran).open_page("/")


def test_the_navigation_links_to_reading_paths(client) -> None:
    html = client.get("/paths/").get_data(as_text=True)
    assert '<a href="/paths/" aria-current="page">Reading paths</a>' in html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_typed_into_a_path_comes_out_inert(app, browser, db, payload) -> None:
    incident = published("A", 1)
    db.commit()
    browser.submit(
        "/paths/new",
        {"title": "XSS path", "description_md": payload, "for_new_users": "y"},
    )
    path = db.scalars(select(ReadingPath)).one()
    page = f"/paths/{path.id}"
    browser.submit(page, {"key": incident.key, "note_md": payload}, action=f"{page}/items/new")
    assert db.scalars(select(ReadingPathItem)).one().note_md == payload  # stored as typed
    newcomer = as_user(app, make_user(Role.READER))
    for url in (page, "/paths/", "/"):
        assert_inert(_main(newcomer.open_page(url)), page_has=("<form",))  # its own buttons
    html = newcomer.get(f"{page}/booklet.html").get_data(as_text=True)
    assert_inert(html.split("</style>", 1)[1])  # the booklet's own stylesheet aside
    markdown = newcomer.get(f"{page}/booklet.md").get_data(as_text=True)
    assert payload.strip() in markdown  # Markdown as typed: it is a text file, not a page


def _main(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]
