"""Signing in and out, passwords, the sign-in limit and the `next` redirect."""

import pytest

from models import Role
from postmortems.auth.service import is_safe_next
from tests.conftest import Browser, field_errors, make_user, sign_in

PASSWORD = "correct horse battery"


@pytest.fixture
def reader(db):
    user = make_user(Role.READER, "reader@example.com", password=PASSWORD)
    db.commit()
    return user


def sign_in_form(anonymous, email: str, password: str, next_url: str = "") -> object:
    return Browser(anonymous).submit(
        f"/auth/login?next={next_url}" if next_url else "/auth/login",
        {"email": email, "password": password, "next": next_url},
    )


def test_anonymous_visitors_only_see_the_sign_in_page(anonymous) -> None:
    response = anonymous.get("/incidents/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/incidents/"
    assert anonymous.get("/auth/login").status_code == 200


def test_sign_in_with_the_right_password(anonymous, reader) -> None:
    response = sign_in_form(anonymous, "Reader@Example.com ", PASSWORD)
    assert response.status_code == 302
    assert anonymous.get("/incidents/").status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(anonymous, reader) -> None:
    wrong_password = sign_in_form(anonymous, "reader@example.com", "not the password")
    unknown_email = sign_in_form(anonymous, "nobody@example.com", "not the password")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert 'value="nobody@example.com"' in unknown_email.get_data(as_text=True)


def test_an_inactive_account_cannot_sign_in(anonymous, reader, db) -> None:
    reader.is_active = False
    db.commit()
    response = sign_in_form(anonymous, "reader@example.com", PASSWORD)
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_an_account_made_inactive_is_signed_out(client, db) -> None:
    user = make_user(Role.READER)
    db.commit()
    sign_in(client, user)
    user.is_active = False
    db.commit()
    assert client.get("/incidents/").status_code == 302


def test_repeated_failed_sign_ins_are_refused_for_a_while(anonymous, reader, app) -> None:
    limit = app.config["SIGN_IN_FAILURES_PER_MINUTE"]
    for _ in range(limit):
        assert sign_in_form(anonymous, "reader@example.com", "wrong").status_code == 200
    refused = sign_in_form(anonymous, "reader@example.com", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_toward_the_limit(app, reader) -> None:
    for _ in range(app.config["SIGN_IN_FAILURES_PER_MINUTE"] + 2):
        client = app.test_client()
        assert sign_in_form(client, "reader@example.com", PASSWORD).status_code == 302


def test_sign_in_returns_to_the_page_asked_for(anonymous, reader) -> None:
    response = sign_in_form(anonymous, "reader@example.com", PASSWORD, "/guards/")
    assert response.headers["Location"] == "/guards/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\x00x",
        "evil.example",
        "",
    ],
)
def test_sign_in_never_redirects_off_the_site(anonymous, reader, target) -> None:
    response = sign_in_form(anonymous, "reader@example.com", PASSWORD, target)
    assert response.headers["Location"] == "/"  # home, never off the site


def test_is_safe_next_accepts_paths_with_queries() -> None:
    assert is_safe_next("/incidents/?severity=SEV1")


def test_sign_out_is_post_only(client) -> None:
    assert client.get("/auth/logout").status_code == 405
    Browser(client).submit("/incidents/", {}, action="/auth/logout")
    assert client.get("/incidents/").status_code == 302


def test_change_password(anonymous, reader, db) -> None:
    sign_in_form(anonymous, "reader@example.com", PASSWORD)
    browser = Browser(anonymous)
    wrong = browser.submit(
        "/auth/password",
        {"current_password": "nope", "new_password": "a" * 12, "confirm": "a" * 12},
    )
    assert "This is not your current password." in wrong.get_data(as_text=True)
    short = browser.submit(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert field_errors(short.get_data(as_text=True), "new_password")
    ok = browser.submit(
        "/auth/password",
        {
            "current_password": PASSWORD,
            "new_password": "a much longer one",
            "confirm": "a much longer one",
        },
    )
    assert ok.status_code == 302
    db.expire_all()
    assert db.get(type(reader), reader.id).check_password("a much longer one")


def test_passwords_are_stored_with_scrypt(reader) -> None:
    assert reader.password_hash.startswith("scrypt:")
    assert PASSWORD not in reader.password_hash
