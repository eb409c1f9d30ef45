"""Shared fixtures: a real, migrated database per test (SQLite file or PostgreSQL), the app,
its test client and CLI runner, and a helper that submits forms with their CSRF token."""

import contextvars
import os
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from alembic import command
from flask import Flask, current_app, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from models import Role, User
from postmortems import create_app
from postmortems.auth.service import start_session
from postmortems.auth.sessions import SESSION_TOKEN_KEY
from postmortems.cli import alembic_config
from postmortems.db import session as db_session

BACKEND = os.environ.get("TEST_DATABASE_BACKEND", "sqlite")


def require(variable: str, reason: str) -> None:
    """Skip for lack of something, or fail when the environment says it must be there."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason}, and {variable}=1 says it is required")
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        require("REQUIRE_POSTGRES", "TEST_DATABASE_URL does not name a PostgreSQL database")
    return url


class PostgresDatabases:
    """Creates throwaway databases on the server that TEST_DATABASE_URL points to."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def create(self, template: str | None = None) -> str:
        name = f"pm_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}{clause}"))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drop a test database; a background process (autovacuum) may hold it for a moment."""
        name = make_url(url).database
        for attempt in range(20):
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                return
            except DBAPIError:
                time.sleep(0.1 * (attempt + 1))
        warnings.warn(f"could not drop test database {name}; it is left behind", stacklevel=2)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_url())
    yield databases
    databases.admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database upgraded to head once per session; each test gets a copy of it."""
    if BACKEND == "postgresql":
        databases = request.getfixturevalue("postgres")
        url = databases.create()
        command.upgrade(alembic_config(url), "head")
        yield url
        databases.drop(url)
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
        yield str(path)


@pytest.fixture
def database_url(
    migrated_template: str, tmp_path: Any, request: pytest.FixtureRequest
) -> Iterator[str]:
    if BACKEND == "postgresql":
        databases = request.getfixturevalue("postgres")
        url = databases.create(template=make_url(migrated_template).database)
        yield url
        databases.drop(url)
    else:
        path = tmp_path / "test.db"
        shutil.copy(migrated_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    """The configuration of the test app; tests may change it before `app` is built."""
    return {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url, "TIMEZONE": "UTC"}


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own, empty context, as in production.

    Flask reuses an app context that a test holds open (the `db` fixture does), and with it
    `g`: the signed-in user and the database session would leak from one request, or one
    client, into the next. The test's own session (if any) ends its transaction before the
    request, so that it holds no lock and the request sees what the test arranged, and after
    it, so that the test reads what the request wrote (a SQLite transaction reads one snapshot).
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        test_session = g.get("db_session") if has_app_context() else None
        if test_session is not None:
            test_session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if test_session is not None:
            test_session.commit()
            test_session.expire_all()
        return response


def new_app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = new_app(app_config)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The app's session inside an app context, for service tests and arranging data."""
    from postmortems.db import session

    with app.app_context():
        yield session


def make_user(
    role: Role = Role.ADMIN,
    email: str | None = None,
    *,
    team_id: int | None = None,
    password: str | None = None,
) -> User:
    """An account; without a password it gets an unusable hash (hashing is slow by design)."""
    from postmortems.db import session

    user = User(
        email=email or f"{role.name.lower()}-{uuid.uuid4().hex[:6]}@example.com",
        name=f"{role.label} {uuid.uuid4().hex[:4]}",
        role=role,
        team_id=team_id,
        password_hash="!",
    )
    if password:
        user.set_password(password)
    session.add(user)
    session.flush()
    return user


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Sign the client in as `user` as the sign-in page does (a live session on the server, its
    token in the cookie), without the slow password hash."""
    app = client.application
    if has_app_context() and current_app._get_current_object() is app:
        token = start_session(user)  # in the test's own session, which may hold unsaved rows
        db_session.commit()
    else:
        with app.app_context():
            token = start_session(user)
            db_session.commit()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user.id)
        flask_session["_fresh"] = True
        flask_session[SESSION_TOKEN_KEY] = token
    return client


def admin_client(app: Flask) -> FlaskClient:
    """A client signed in as a new admin of `app` (for tests that build their own app)."""
    from postmortems.db import session

    with app.app_context():
        user = make_user(Role.ADMIN)
        session.commit()
    return sign_in(app.test_client(), user)


@pytest.fixture
def admin(app: Flask) -> User:
    from postmortems.db import session

    with app.app_context():
        user = make_user(Role.ADMIN, "test-admin@example.com")
        session.commit()
        return user


@pytest.fixture
def client(app: Flask, admin: User) -> FlaskClient:
    """A test client signed in as an admin: most tests are about what a page does, not who."""
    return sign_in(app.test_client(), admin)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN_PATTERN = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)">')


class FilledForm(HTMLParser):
    """Every field of a page's main form (the first `form.form` that posts) as the page filled
    it, as a browser would send it: inputs (checkboxes when ticked), selected options and
    textareas."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        is_main = a.get("method") == "post" and "form" in a.get("class", "").split()
        if tag == "form" and is_main and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif "name" not in a:
            return
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append(
                (a["name"], a.get("value", "y" if a.get("type") == "checkbox" else ""))
            )
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select" and self._select is not None:
            # A select with nothing marked selected sends its first option.
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.fields.extend((self._select, v) for v in chosen[:1])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one line break that follows <textarea>.
            text = (
                self._text.removeprefix("\r\n")
                if self._text.startswith("\r\n")
                else (self._text.removeprefix("\n"))
            )
            self.fields.append((self._textarea, text))
            self._textarea = None


class Browser:
    """Drives the test client like a person: opens the form page, fills it, submits it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def open_page(self, page_url: str) -> str:
        page = self.client.get(page_url)
        assert page.status_code == 200, f"{page_url} answered {page.status_code}"
        return page.get_data(as_text=True)

    def csrf_token(self, page_url: str) -> str:
        match = CSRF_PATTERN.search(self.open_page(page_url))
        assert match, f"no CSRF token on {page_url}"
        return match.group(1)

    def submit(
        self,
        page_url: str,
        data: dict[str, Any],
        *,
        action: str | None = None,
        follow: bool = False,
    ) -> Any:
        """POST `data` to `action` with the page's CSRF token. Without `action` the page's own
        form is sent, with its hidden fields (such as `version`) as the page filled them."""
        html = self.open_page(page_url)
        match = CSRF_PATTERN.search(html)
        assert match, f"no CSRF token on {page_url}"
        payload = {"csrf_token": match.group(1)}
        if action is None and '<form method="post" class="form"' in html:
            form = html.split('<form method="post" class="form"', 1)[1].split("</form>", 1)[0]
            payload.update(HIDDEN_PATTERN.findall(form))
        payload.update(data)
        return self.client.post(action or page_url, data=payload, follow_redirects=follow)

    def submit_filled(self, page_url: str, changes: dict[str, str | None]) -> Any:
        """Send the page's form with every field as the page filled it and `changes` typed
        over it (None clears a field, as unticking a box does)."""
        payload = MultiDict(FilledForm(self.open_page(page_url)).fields)
        for name, value in changes.items():
            if value is None:
                payload.poplist(name)
            else:
                payload.setlist(name, [value])
        return self.client.post(page_url, data=payload)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


def field_errors(html: str, field_id: str) -> list[str]:
    """The error messages shown beside one field."""
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', html, re.S
    )
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", match.group(1))] if match else []
