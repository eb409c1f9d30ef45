"""The client's address: X-Forwarded-For counts only behind proxies the settings trust."""

import pytest
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from models import SignInFailure
from postmortems import create_app
from postmortems.db import session
from tests.conftest import Browser, new_app

PROXY, CLIENT = "10.0.0.2", "203.0.113.9"


def failed_sign_in_address(app) -> str:
    """Fail a sign-in through a proxy that forwards CLIENT; return the address counted."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
    Browser(client).submit("/auth/login", {"email": "a@example.com", "password": "wrong"})
    with app.app_context():
        return session.scalars(select(SignInFailure.address)).one()


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app) -> None:
    assert failed_sign_in_address(app) == PROXY


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(app_config) -> None:
    app = new_app({**app_config, "TRUSTED_PROXIES": 1})
    try:
        assert failed_sign_in_address(app) == CLIENT
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("value", ["1", '"1"'], ids=["number", "string"])
def test_trusted_proxies_may_come_from_the_environment_as_a_number_or_a_string(
    database_url, monkeypatch, value
) -> None:
    monkeypatch.setenv("POSTMORTEMS_SECRET_KEY", "a key long and random enough for a test")
    monkeypatch.setenv("POSTMORTEMS_DATABASE_URL", database_url)
    monkeypatch.setenv("POSTMORTEMS_TRUSTED_PROXIES", value)
    app = create_app()
    try:
        assert app.config["TRUSTED_PROXIES"] == 1
        assert isinstance(app.wsgi_app, ProxyFix)
    finally:
        app.extensions["db_engine"].dispose()


def test_a_trusted_proxies_setting_that_is_not_a_count_refuses_to_start(app_config) -> None:
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        create_app({**app_config, "TRUSTED_PROXIES": "two"})
