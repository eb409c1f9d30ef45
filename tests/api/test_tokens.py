"""Personal API tokens: made on their page (shown once) or by `flask tokens create`, stored as
hashes, revoked for good; only a live token of an active account opens the API, never a
cookie."""

import re

import pytest
from sqlalchemy import select

from models import ApiToken, Role
from postmortems.tokens.service import hash_token
from tests.api.helpers import Api, user_with_token
from tests.conftest import make_user, sign_in

TOKEN = re.compile(r'<code id="new-token">(pmt_[A-Za-z0-9_-]+)</code>')


def test_a_live_token_opens_the_api(app, db) -> None:
    _, token = user_with_token(Role.READER)
    assert Api(app, token).get("/api/v1/postmortems").status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer pmt_unknown", "Basic dXNlcjpwYXNz", "bearer  ", "Token pmt_x"],
)
def test_no_token_or_an_unknown_one_gets_401(app, db, header) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = Api(app, None).get("/api/v1/postmortems", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401(app, db, browser) -> None:
    user, token = user_with_token(Role.ADMIN, email="test-admin-2@example.com")
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    client = sign_in(app.test_client(), user)
    from tests.conftest import Browser

    Browser(client).submit("/tokens/", {}, action=f"/tokens/{row.id}/revoke")
    assert Api(app, token).get("/api/v1/postmortems").status_code == 401


def test_the_token_of_a_deactivated_account_gets_401(app, db) -> None:
    user, token = user_with_token(Role.ADMIN)
    user.is_active = False
    db.commit()
    assert Api(app, token).get("/api/v1/postmortems").status_code == 401


def test_a_signed_in_browser_cannot_call_the_api_with_its_cookie(app, db, client) -> None:
    """A page on another site can make the browser send its cookie, never a token."""
    response = client.post(
        "/api/v1/postmortems",
        json={"title": "Forged", "started_at": "2024-01-01T00:00:00Z"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert client.get("/api/v1/postmortems").status_code == 401


def test_a_token_acts_as_its_own_user_whatever_cookie_comes_with_it(app, db, client) -> None:
    """The admin's browser cookie rides along with a reader's token: the reader is the caller."""
    _, token = user_with_token(Role.READER, email="reader-with-cookie@example.com")
    response = client.post(
        "/api/v1/postmortems",
        json={"title": "Not the reader's to file", "started_at": "2024-01-01T00:00:00Z"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


def test_only_the_hash_is_stored_and_use_is_recorded(app, db) -> None:
    user, token = user_with_token(Role.READER)
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == hash_token(token) and token not in (row.token_hash, row.prefix)
    assert token.startswith(row.prefix) and row.last_used_at is None
    Api(app, token).get("/api/v1/taxonomy")
    db.refresh(row)
    assert row.last_used_at is not None


def test_the_tokens_page_shows_a_new_token_once_and_it_works(app, db, browser) -> None:
    response = browser.submit("/tokens/", {"name": "CI pipeline"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(response.get_data(as_text=True)).group(1)
    assert Api(app, token).get("/api/v1/postmortems").status_code == 200
    again = browser.get("/tokens/").get_data(as_text=True)
    assert "CI pipeline" in again and token not in again and token[:10] in again


def test_a_token_needs_a_name(app, db, browser) -> None:
    response = browser.submit("/tokens/", {"name": ""})
    assert response.status_code == 200 and "new-token" not in response.get_data(as_text=True)
    assert db.scalar(select(ApiToken)) is None


def test_nobody_revokes_someone_elses_token(app, db, browser) -> None:
    other, token = user_with_token(Role.READER)
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == other.id))
    response = browser.submit("/tokens/", {}, action=f"/tokens/{row.id}/revoke")
    assert response.status_code == 404
    assert Api(app, token).get("/api/v1/postmortems").status_code == 200


def test_revoking_needs_the_csrf_token(app, db, client) -> None:
    _, token = user_with_token(Role.READER)
    row = db.scalar(select(ApiToken))
    client.post(f"/tokens/{row.id}/revoke")
    assert Api(app, token).get("/api/v1/postmortems").status_code == 200


def test_the_cli_prints_a_working_token_alone_on_its_last_line(app, db, runner) -> None:
    make_user(Role.AUTHOR, "bot@example.com")
    db.commit()
    result = runner.invoke(args=["tokens", "create", "bot@example.com", "--name", "Incident bot"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"pmt_[A-Za-z0-9_-]{43}", token)
    assert Api(app, token).get("/api/v1/postmortems").status_code == 200


def test_the_cli_refuses_an_unknown_account(app, db, runner) -> None:
    result = runner.invoke(args=["tokens", "create", "nobody@example.com", "--name", "x"])
    assert result.exit_code != 0 and "No account" in result.output
