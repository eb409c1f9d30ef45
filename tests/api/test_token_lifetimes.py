"""API tokens expire, and every event that signs an account out everywhere revokes its tokens
(a password change or reset, "sign out everywhere", deactivation), for good."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ApiToken, Role, User, utcnow
from tests.api.helpers import Api, token_for
from tests.conftest import Browser, field_errors, make_user, sign_in

TOKEN = re.compile(r'<code id="new-token">(pmt_[A-Za-z0-9_-]+)</code>')
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much longer one"


@pytest.fixture
def owner(db) -> User:
    user = make_user(Role.AUTHOR, "owner@example.com", password=PASSWORD)
    db.commit()
    return user


def token_row(db, user: User) -> ApiToken:
    db.expire_all()
    return db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()


def opens_the_api(app, token: str) -> bool:
    return Api(app, token).get("/api/v1/taxonomy").status_code == 200


def test_a_token_made_on_its_page_expires_after_the_days_chosen(app, db, browser, admin) -> None:
    response = browser.submit("/tokens/", {"name": "CI", "expires_in_days": "7"})
    assert response.status_code == 201
    row = token_row(db, admin)
    assert row.expires_at - row.created_at == timedelta(days=7)
    assert f"expires on {row.expires_at:%Y-%m-%d}" in response.get_data(as_text=True)


def test_a_token_made_without_a_choice_expires_after_the_configured_default(
    app, db, browser, admin
) -> None:
    assert 'value="90"' in browser.get("/tokens/").get_data(as_text=True)
    browser.submit("/tokens/", {"name": "CI"})
    row = token_row(db, admin)
    assert row.expires_at - row.created_at == timedelta(days=90)


@pytest.mark.parametrize("days", ["366", "0", "-3", "soon"])
def test_the_tokens_page_refuses_an_expiry_out_of_range_beside_the_field(
    app, db, browser, admin, days
) -> None:
    response = browser.submit("/tokens/", {"name": "CI", "expires_in_days": days})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "expires_in_days")
    assert db.scalars(select(ApiToken)).all() == []


def test_the_cli_makes_a_token_with_the_days_given(app, db, runner, owner) -> None:
    result = runner.invoke(
        args=["tokens", "create", owner.email, "--name", "bot", "--expires-in-days", "30"]
    )
    assert result.exit_code == 0, result.output
    row = token_row(db, owner)
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert f"expires on {row.expires_at:%Y-%m-%d}" in result.output
    assert opens_the_api(app, result.output.strip().splitlines()[-1])


def test_the_cli_refuses_more_days_than_the_maximum(app, db, runner, owner) -> None:
    result = runner.invoke(
        args=["tokens", "create", owner.email, "--name", "bot", "--expires-in-days", "400"]
    )
    assert result.exit_code != 0 and "365" in result.output
    assert db.scalars(select(ApiToken)).all() == []


def test_an_expired_token_gets_401_saying_it_expired(app, db, owner) -> None:
    token = token_for(owner)
    row = token_row(db, owner)
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    response = Api(app, token).get("/api/v1/taxonomy")
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


def test_the_tokens_page_shows_an_expired_token_as_expired(app, db, owner) -> None:
    token_for(owner)
    row = token_row(db, owner)
    row.expires_at = utcnow() - timedelta(days=1)
    db.commit()
    html = sign_in(app.test_client(), owner).get("/tokens/").get_data(as_text=True)
    assert f"expired {row.expires_at:%Y-%m-%d}" in html


def signed_in(app, email: str = "owner@example.com", password: str = PASSWORD) -> Browser:
    browser = Browser(app.test_client())
    assert browser.submit("/auth/login", {"email": email, "password": password}).status_code == 302
    return browser


def assert_revoked(app, db, owner: User, token: str, reason: str) -> None:
    """The token answers 401 (naming the revocation while its account is active), and keeps
    why it was revoked."""
    response = Api(app, token).get("/api/v1/taxonomy")
    assert response.status_code == 401
    db.expire_all()
    if db.get(User, owner.id).is_active:
        assert "revoked" in response.get_json()["message"]
    row = token_row(db, owner)
    assert row.revoked_at is not None and row.revoked_reason == reason


def test_changing_your_password_revokes_your_tokens(app, db, owner) -> None:
    token = token_for(owner)
    signed_in(app).submit(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert_revoked(app, db, owner, token, "password changed")


def test_signing_out_everywhere_revokes_your_tokens(app, db, owner) -> None:
    token = token_for(owner)
    signed_in(app).submit("/auth/password", {}, action="/auth/sign-out-everywhere")
    assert_revoked(app, db, owner, token, "signed out everywhere")


def test_an_admin_resetting_the_password_revokes_the_tokens(app, db, browser, owner) -> None:
    token = token_for(owner)
    response = browser.submit_filled(f"/users/{owner.id}/edit", {"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert_revoked(app, db, owner, token, "password reset by an admin")


def test_setting_the_password_from_the_cli_revokes_the_tokens(app, db, runner, owner) -> None:
    token = token_for(owner)
    result = runner.invoke(args=["users", "set-password", owner.email, "--password", NEW_PASSWORD])
    assert result.exit_code == 0
    assert_revoked(app, db, owner, token, "password set with flask users set-password")


def test_deactivating_an_account_revokes_its_tokens(app, db, browser, owner) -> None:
    token = token_for(owner)
    response = browser.submit_filled(f"/users/{owner.id}/edit", {"is_active": None})
    assert response.status_code == 302
    assert_revoked(app, db, owner, token, "account deactivated")


def test_reactivating_an_account_does_not_bring_its_tokens_back(app, db, browser, owner) -> None:
    token = token_for(owner)
    browser.submit_filled(f"/users/{owner.id}/edit", {"is_active": None})
    browser.submit_filled(f"/users/{owner.id}/edit", {"is_active": "y"})
    db.expire_all()
    assert db.get(User, owner.id).is_active
    assert not opens_the_api(app, token)


def test_a_token_made_after_a_password_change_works(app, db, owner) -> None:
    token_for(owner)
    browser = signed_in(app)
    browser.submit(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    made = browser.submit("/tokens/", {"name": "new CI"})
    assert opens_the_api(app, TOKEN.search(made.get_data(as_text=True)).group(1))
