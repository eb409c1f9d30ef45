"""Security settings: headers, cookies, CSRF on every state change, the secret key."""

import re

import pytest
from flask import url_for

from postmortems import create_app
from postmortems.security import SECURITY_HEADERS
from tests.auth.test_access_matrix import EXPECTED, FIXED_VALUES


@pytest.mark.parametrize("url", ["/auth/login", "/incidents/", "/nowhere", "/static/style.css"])
def test_every_response_carries_the_security_headers(client, url) -> None:
    response = client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy


def test_pages_have_no_inline_script_or_style(client) -> None:
    html = client.get("/incidents/").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)  # files from /static only
    assert all('src="/static/' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "style=" not in html and "<style" not in html


def test_the_session_cookie_is_httponly_and_samesite_lax(anonymous, app, db) -> None:
    from tests.conftest import Browser, make_user

    make_user(password="correct horse battery", email="ana@example.com")
    db.commit()
    response = Browser(anonymous).submit(
        "/auth/login", {"email": "ana@example.com", "password": "correct horse battery"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_over_https(anonymous) -> None:
    response = anonymous.get("/auth/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_every_state_changing_request_needs_a_csrf_token(app, client) -> None:
    post_rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(post_rules) > 10
    with app.test_request_context():
        for rule in post_rules:
            values = {n: FIXED_VALUES.get(n, 1) for n in rule.arguments}
            response = client.post(url_for(rule.endpoint, **values), data={"title": "x"})
            # The API takes no cookie, so it needs no CSRF token: without its own token, 401.
            expected = (401,) if rule.endpoint.startswith("api.") else (400, 404)
            assert response.status_code in expected, rule.endpoint


ASK_FIRST = {
    "incidents.delete",
    "incidents.delete_part",
    "paths.delete",
    "paths.delete_item",
}  # GET shows "Delete …?" and no more


def test_deletes_are_post_only(app) -> None:
    for rule in app.url_map.iter_rules():
        if "delete" in rule.endpoint and rule.endpoint not in ASK_FIRST:
            assert rule.methods - {"HEAD", "OPTIONS"} == {"POST"}, rule.endpoint
    assert EXPECTED["incidents.delete"][0] == "GET"  # GET only asks; the delete is a POST


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "SECRET"])
def test_the_app_refuses_to_start_with_an_empty_or_placeholder_key(database_url, key) -> None:
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": key})


def test_debug_mode_without_a_key_refuses_to_start(database_url) -> None:
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "", "DEBUG": True})


def test_flask_debug_in_the_environment_without_a_key_refuses_to_start(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": None})


def test_tests_may_run_without_a_key(database_url) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": None, "TESTING": True})
    assert app.testing
    app.extensions["db_engine"].dispose()
