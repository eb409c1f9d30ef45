"""Failed sign-ins are counted in the database: per email and address, and per address."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Role, SignInFailure, utcnow
from postmortems.db import session
from tests.conftest import Browser, field_errors, make_user, new_app, sign_in

PASSWORD = "correct horse battery"
HOME, AWAY = "192.0.2.10", "198.51.100.20"


@pytest.fixture
def reader(db):
    user = make_user(Role.READER, "reader@example.com", password=PASSWORD)
    db.commit()
    return user


def browser_at(app, address: str) -> Browser:
    """A browser whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def sign_in_form(browser: Browser, email: str, password: str):  # type: ignore[no-untyped-def]
    return browser.submit("/auth/login", {"email": email, "password": password})


def fail(browser: Browser, times: int, email: str = "reader@example.com") -> None:
    for _ in range(times):
        assert sign_in_form(browser, email, "wrong password").status_code == 200


def test_failures_from_one_address_do_not_lock_the_account_at_another(app, reader) -> None:
    attacker = browser_at(app, AWAY)
    fail(attacker, app.config["SIGN_IN_FAILURES_PER_MINUTE"])
    assert sign_in_form(attacker, "reader@example.com", PASSWORD).status_code == 429
    owner = browser_at(app, HOME)
    assert sign_in_form(owner, "reader@example.com", PASSWORD).status_code == 302


def test_too_many_failures_from_one_address_refuse_every_email_from_it(app_config) -> None:
    app = new_app({**app_config, "SIGN_IN_FAILURES_PER_ADDRESS_PER_MINUTE": 3})
    try:
        with app.app_context():
            make_user(Role.READER, "reader@example.com", password=PASSWORD)
            session.commit()
        attacker = browser_at(app, AWAY)
        for n in range(3):
            fail(attacker, 1, email=f"guess-{n}@example.com")
        refused = sign_in_form(attacker, "reader@example.com", PASSWORD)
        assert refused.status_code == 429
        owner = browser_at(app, HOME)
        assert sign_in_form(owner, "reader@example.com", PASSWORD).status_code == 302
    finally:
        app.extensions["db_engine"].dispose()


def test_the_refusal_reads_the_same_for_a_known_and_an_unknown_email(app, reader) -> None:
    attacker = browser_at(app, AWAY)
    limit = app.config["SIGN_IN_FAILURES_PER_MINUTE"]
    fail(attacker, limit)
    fail(attacker, limit, email="nobody@example.com")
    known = sign_in_form(attacker, "reader@example.com", "wrong password")
    unknown = sign_in_form(attacker, "nobody@example.com", "wrong password")
    assert known.status_code == unknown.status_code == 429
    messages = [field_errors(r.get_data(as_text=True), "password") for r in (known, unknown)]
    assert messages == [["Too many failed sign-ins from here. Wait a minute and try again."]] * 2


def test_failures_older_than_a_minute_no_longer_count(app, reader, db) -> None:
    long_ago = utcnow() - timedelta(seconds=61)
    limit = app.config["SIGN_IN_FAILURES_PER_MINUTE"]
    db.add_all(
        SignInFailure(email="reader@example.com", address=AWAY, at=long_ago) for _ in range(limit)
    )
    db.commit()
    assert sign_in_form(browser_at(app, AWAY), "reader@example.com", PASSWORD).status_code == 302


def test_recording_a_failure_deletes_those_older_than_an_hour(app, reader, db) -> None:
    db.add(SignInFailure(email="x@example.com", address=AWAY, at=utcnow() - timedelta(hours=2)))
    db.commit()
    fail(browser_at(app, HOME), 1)
    db.expire_all()
    assert db.scalars(select(SignInFailure.address)).all() == [HOME]


def test_failures_are_counted_across_app_instances_on_one_database(app, app_config, reader):
    other_worker = new_app(app_config)
    try:
        limit = app.config["SIGN_IN_FAILURES_PER_MINUTE"]
        fail(browser_at(app, AWAY), limit - 1)
        fail(browser_at(other_worker, AWAY), 1)
        refused = sign_in_form(browser_at(app, AWAY), "reader@example.com", PASSWORD)
        assert refused.status_code == 429
        refused = sign_in_form(browser_at(other_worker, AWAY), "reader@example.com", PASSWORD)
        assert refused.status_code == 429
    finally:
        other_worker.extensions["db_engine"].dispose()


def test_the_email_is_counted_normalised(app, reader, db) -> None:
    fail(browser_at(app, AWAY), 1, email="  Reader@Example.COM")
    db.expire_all()
    assert db.scalar(select(SignInFailure.email)) == "reader@example.com"


def test_a_successful_sign_in_is_not_counted(app, reader, db) -> None:
    sign_in_form(browser_at(app, HOME), "reader@example.com", PASSWORD)
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 0


def test_wrong_current_passwords_on_the_password_page_are_limited(app, reader) -> None:
    browser = Browser(sign_in(app.test_client(), reader))
    guess = {"new_password": "a much longer one", "confirm": "a much longer one"}
    for _ in range(app.config["SIGN_IN_FAILURES_PER_MINUTE"]):
        wrong = browser.submit("/auth/password", {**guess, "current_password": "nope"})
        assert field_errors(wrong.get_data(as_text=True), "current_password") == [
            "This is not your current password."
        ]
    refused = browser.submit("/auth/password", {**guess, "current_password": PASSWORD})
    assert refused.status_code == 429
    assert field_errors(refused.get_data(as_text=True), "current_password") == [
        "Too many wrong passwords. Wait a minute and try again."
    ]


def test_the_dummy_password_hash_is_made_on_first_use_not_at_import() -> None:
    code = "import postmortems.auth.service as s; assert s._dummy_hash.cache_info().currsize == 0"
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
