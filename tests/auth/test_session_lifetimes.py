"""Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_LIFETIME_DAYS after
sign-in, and the sign-in page says which; "last seen" moves at most once a minute.

Time is moved by editing the session row's timestamps in the test database."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Role, UserSession, utcnow
from tests.conftest import Browser, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def reader(db):
    user = make_user(Role.READER, "reader@example.com", password=PASSWORD)
    db.commit()
    return user


def signed_in(app) -> Browser:
    browser = Browser(app.test_client())
    response = browser.submit("/auth/login", {"email": "reader@example.com", "password": PASSWORD})
    assert response.status_code == 302
    return browser


def the_session(db, user) -> UserSession:
    db.expire_all()
    return db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()


def age(db, user, *, seen: timedelta, made: timedelta | None = None) -> None:
    """Pretend the session was last seen `seen` ago (and made `made` ago)."""
    row = the_session(db, user)
    now = utcnow()
    row.last_seen_at = now - seen
    row.created_at = now - (made or seen)
    db.commit()


def test_a_session_idle_for_longer_than_the_limit_is_signed_out_with_the_reason(
    app, db, reader
) -> None:
    browser = signed_in(app)
    age(db, reader, seen=timedelta(hours=12, minutes=1))
    response = browser.get("/incidents/", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert "You were signed out after 12 hours without activity." in response.get_data(as_text=True)
    assert the_session(db, reader).ended_at is not None


def test_a_session_used_within_the_idle_limit_stays_signed_in(app, db, reader) -> None:
    browser = signed_in(app)
    age(db, reader, seen=timedelta(hours=11), made=timedelta(days=3))
    assert browser.get("/incidents/").status_code == 200


def test_a_session_older_than_its_lifetime_is_signed_out_even_when_in_use(app, db, reader) -> None:
    browser = signed_in(app)
    age(db, reader, seen=timedelta(minutes=5), made=timedelta(days=30, minutes=1))
    response = browser.get("/incidents/", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert "Your session reached its 30-day limit; sign in again." in response.get_data(
        as_text=True
    )


def test_a_signed_out_session_stays_out_after_signing_in_again_elsewhere(app, db, reader) -> None:
    browser = signed_in(app)
    age(db, reader, seen=timedelta(days=1))
    browser.get("/incidents/")
    signed_in(app)
    assert browser.get("/incidents/").status_code == 302


class TestShorterIdleLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SESSION_IDLE_MINUTES": 90}

    def test_the_configured_idle_limit_applies_and_is_named(self, app, db, reader) -> None:
        browser = signed_in(app)
        age(db, reader, seen=timedelta(minutes=91))
        html = browser.get("/incidents/", follow_redirects=True).get_data(as_text=True)
        assert "You were signed out after 90 minutes without activity." in html


def test_last_seen_moves_at_most_once_a_minute(app, db, reader) -> None:
    browser = signed_in(app)
    first = the_session(db, reader).last_seen_at
    browser.get("/incidents/")
    assert the_session(db, reader).last_seen_at == first


def test_a_page_moves_last_seen_once_a_minute_has_passed(app, db, reader) -> None:
    browser = signed_in(app)
    age(db, reader, seen=timedelta(minutes=2))
    before = utcnow()
    assert browser.get("/incidents/").status_code == 200
    assert the_session(db, reader).last_seen_at >= before - timedelta(seconds=1)


def test_a_form_post_moves_last_seen_in_its_own_transaction(app, db, reader) -> None:
    """A request that writes holds the write lock already: the bookkeeping joins it."""
    browser = signed_in(app)
    csrf_token = browser.csrf_token("/tokens/")
    age(db, reader, seen=timedelta(minutes=5))
    before = utcnow()
    response = browser.client.post("/tokens/", data={"csrf_token": csrf_token, "name": "CI"})
    assert response.status_code == 201
    assert the_session(db, reader).last_seen_at >= before - timedelta(seconds=1)


@pytest.mark.parametrize(
    "settings",
    [
        {"SESSION_IDLE_MINUTES": 0},
        {"SESSION_LIFETIME_DAYS": 0},
        {"API_TOKEN_DEFAULT_DAYS": 400, "API_TOKEN_MAX_DAYS": 365},
    ],
)
def test_the_app_refuses_to_start_with_lifetimes_that_end_everything_or_disagree(
    app_config, settings
) -> None:
    from postmortems import create_app

    with pytest.raises(RuntimeError, match="POSTMORTEMS_"):
        create_app({**app_config, **settings})
