"""Server-side sessions: signing out, a new password and deactivation end them for good."""

import pytest
from sqlalchemy import func, select

from models import Role, UserSession
from postmortems.auth.service import hash_token
from tests.conftest import Browser, make_user, sign_in

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much longer one"


@pytest.fixture
def reader(db):
    user = make_user(Role.READER, "reader@example.com", password=PASSWORD)
    db.commit()
    return user


def signed_in(app, email: str = "reader@example.com", password: str = PASSWORD) -> Browser:
    """A new browser signed in through the sign-in page."""
    browser = Browser(app.test_client())
    response = browser.submit("/auth/login", {"email": email, "password": password})
    assert response.status_code == 302
    return browser


def session_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def live_sessions(db, user) -> int:
    db.expire_all()
    stmt = select(func.count()).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    return db.scalar(stmt)


def test_a_cookie_replayed_after_sign_out_is_refused(app, reader) -> None:
    browser = signed_in(app)
    stolen = session_cookie(browser)
    browser.submit("/incidents/", {}, action="/auth/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/incidents/").status_code == 302


def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(app, reader) -> None:
    here, elsewhere = signed_in(app), signed_in(app)
    response = here.submit(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/incidents/").status_code == 200
    assert elsewhere.get("/incidents/").status_code == 302


def test_sign_out_everywhere_ends_every_session_including_this_one(app, reader, db) -> None:
    here, elsewhere = signed_in(app), signed_in(app)
    response = here.submit("/auth/password", {}, action="/auth/sign-out-everywhere")
    assert response.headers["Location"] == "/auth/login"
    assert here.get("/incidents/").status_code == 302
    assert elsewhere.get("/incidents/").status_code == 302
    assert live_sessions(db, reader) == 0


def test_the_password_page_offers_sign_out_everywhere(client) -> None:
    html = client.get("/auth/password").get_data(as_text=True)
    assert 'action="/auth/sign-out-everywhere"' in html


def test_an_admin_deactivating_a_user_ends_their_sessions(app, browser, db) -> None:
    user = make_user(Role.READER)
    db.commit()
    theirs = sign_in(app.test_client(), user)
    browser.submit(
        f"/users/{user.id}/edit", {"email": user.email, "role": "READER", "is_active": ""}
    )
    assert live_sessions(db, user) == 0
    assert theirs.get("/incidents/").status_code == 302


def test_an_admin_setting_a_password_ends_the_users_sessions(app, browser, db) -> None:
    user = make_user(Role.READER)
    db.commit()
    sign_in(app.test_client(), user)
    browser.submit(
        f"/users/{user.id}/edit",
        {"email": user.email, "role": "READER", "is_active": "y", "password": NEW_PASSWORD},
    )
    assert live_sessions(db, user) == 0


def test_an_admin_changing_only_a_role_keeps_the_users_sessions(app, browser, db) -> None:
    user = make_user(Role.READER)
    db.commit()
    sign_in(app.test_client(), user)
    browser.submit(
        f"/users/{user.id}/edit", {"email": user.email, "role": "AUTHOR", "is_active": "y"}
    )
    assert live_sessions(db, user) == 1


def test_an_admin_setting_their_own_password_stays_signed_in(app, browser, admin, db) -> None:
    other_device = sign_in(app.test_client(), admin)
    browser.submit(
        f"/users/{admin.id}/edit",
        {"email": admin.email, "role": "ADMIN", "is_active": "y", "password": NEW_PASSWORD},
    )
    assert browser.get("/incidents/").status_code == 200
    assert other_device.get("/incidents/").status_code == 302


def test_users_set_password_ends_every_session(app, runner, reader, db) -> None:
    browser = signed_in(app)
    result = runner.invoke(args=["users", "set-password", reader.email, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert browser.get("/incidents/").status_code == 302


def test_a_token_signs_in_only_the_user_it_was_given_to(app, reader, admin) -> None:
    client = sign_in(app.test_client(), reader)
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(admin.id)
    assert client.get("/incidents/").status_code == 302


def test_only_a_hash_of_the_token_is_stored(app, reader, db) -> None:
    client = sign_in(app.test_client(), reader)
    with client.session_transaction() as flask_session:
        token = flask_session["sid"]
    stored = db.scalars(select(UserSession.token_hash).where(UserSession.user_id == reader.id))
    assert list(stored) == [hash_token(token)]
