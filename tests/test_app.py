"""The factory, configuration, database settings and error pages."""

import pytest
from sqlalchemy import text

from postmortems import create_app
from postmortems.db import SQLITE_BUSY_TIMEOUT_MS, get_engine
from tests.conftest import admin_client


def test_app_refuses_to_start_without_a_secret_key_outside_debug(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="POSTMORTEMS_SECRET_KEY"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": ""})


def test_app_refuses_an_unknown_time_zone(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="POSTMORTEMS_TIMEZONE"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "TIMEZONE": "Mars/Olympus"})


def test_configuration_comes_from_prefixed_environment_variables(monkeypatch, database_url):
    monkeypatch.setenv("POSTMORTEMS_SECRET_KEY", "from-env")
    monkeypatch.setenv("POSTMORTEMS_DATABASE_URL", database_url)
    monkeypatch.setenv("POSTMORTEMS_TIMEZONE", "Europe/Berlin")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["DATABASE_URL"] == database_url
    assert app.config["TIMEZONE"] == "Europe/Berlin"
    app.extensions["db_engine"].dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app) -> None:
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite settings")
    with app.app_context(), get_engine().connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert conn.scalar(text("PRAGMA foreign_keys")) == 1
        assert conn.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS


def test_root_is_the_home_page_with_a_link_to_every_postmortem(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/incidents/"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/nowhere",
        "/incidents/999999",
        "/incidents/999999/edit",
        "/guards/999999",
        "/teams/999999",
        "/teams/stages/999999/edit",
        "/taxonomy/factors/999999/edit",
        "/incidents/999999/factors/new",
        "/incidents/999999/delete",
    ],
)
def test_unknown_ids_get_the_404_page(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert "Back to the postmortems" in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused_with_a_clear_page(client) -> None:
    response = client.post("/incidents/new", data={"title": "x", "started_at": "2024-01-01T10:00"})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)


def test_pages_link_the_stylesheet_from_the_app_not_a_cdn(client) -> None:
    html = client.get("/incidents/").get_data(as_text=True)
    assert "/static/style.css" in html
    assert "https://" not in html.split("<body")[0]
    assert client.get("/static/style.css").status_code == 200


def test_an_unexpected_error_gets_the_error_page_not_a_traceback(app) -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = admin_client(app).get("/broken")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "Back to the postmortems" in html
    assert "boom" not in html


def test_the_error_page_renders_after_a_failed_statement_with_the_security_headers(app) -> None:
    """A failed statement leaves the transaction unusable (PostgreSQL refuses every later
    query in it); the error page rolls back first, so it still renders, headers and all."""
    from sqlalchemy import text

    from postmortems.db import session

    def broken() -> str:
        session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    app.add_url_rule("/broken-sql", view_func=broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = admin_client(app).get("/broken-sql")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_healthz_answers_ok_without_sign_in(anonymous) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.headers["Content-Security-Policy"]  # the security headers too


def test_home_shows_my_drafts_reviews_and_overdue_action_items(app, db) -> None:
    from datetime import date

    from models import ActionType, IncidentStatus, LessonGroup, Role
    from postmortems.incidents.parts import ActionItemValues, save_part
    from tests.conftest import make_user, sign_in
    from tests.factories import make_incident

    reviewer = make_user(Role.REVIEWER)
    draft = make_incident("My draft", author_id=reviewer.id)
    in_review = make_incident("Theirs to review", status=IncidentStatus.IN_REVIEW)
    item = ActionItemValues(
        "Add the test",
        LessonGroup.TECHNICAL,
        ActionType.PREVENTIVE,
        owner_id=reviewer.id,
        due_on=date(2024, 4, 1),
    )
    save_part(draft, item)
    db.commit()
    html = sign_in(app.test_client(), reviewer).get("/").get_data(as_text=True)
    drafts, reviews, items = (
        html.split(f'id="{s}"')[1].split("</section>")[0]
        for s in ("drafts", "to-review", "action-items")
    )
    assert draft.key in drafts and in_review.key not in drafts
    assert in_review.key in reviews and draft.key not in reviews
    assert "Add the test" in items and "overdue" in items


def test_home_keeps_the_count_in_review_until_a_change(app, db) -> None:
    """The number of postmortems in review (which picks how the list is read) is kept between
    reviewers' visits; a postmortem sent for review shows on the next one."""
    from models import Role
    from postmortems.cache import cache_key
    from postmortems.incidents.workflow import submit_for_review
    from tests.conftest import make_user, sign_in
    from tests.factories import make_incident

    reviewer, author = make_user(Role.REVIEWER), make_user(Role.AUTHOR)
    first = make_incident("First in review", author_id=author.id)
    second = make_incident("Second in review", author_id=author.id)
    submit_for_review(first, author)
    db.commit()
    browser = sign_in(app.test_client(), reviewer)
    html = browser.get("/").get_data(as_text=True)
    assert first.key in html and second.key not in html
    kept = app.extensions["figure_cache"][cache_key(("in_review_count",), None)]
    assert kept[1] == 1
    assert browser.get("/").status_code == 200
    assert (
        app.extensions["figure_cache"][cache_key(("in_review_count",), None)] is kept
    )  # not counted again
    submit_for_review(second, author)
    db.commit()
    html = browser.get("/").get_data(as_text=True)
    assert first.key in html and second.key in html
    assert app.extensions["figure_cache"][cache_key(("in_review_count",), None)][1] == 2
