"""The browser's half of a signed-in session: the token in Flask's signed cookie that names a
live `UserSession` row, and the client's address that failed sign-ins are counted against."""

from flask import request
from flask import session as flask_session
from flask_login import login_user, logout_user

from models import User

# Where Flask's session cookie keeps the token; the database keeps only its hash.
SESSION_TOKEN_KEY = "sid"


def session_token() -> str | None:
    """This browser's session token, if it has one."""
    token = flask_session.get(SESSION_TOKEN_KEY)
    return token if isinstance(token, str) else None


def remember_session(user: User, token: str) -> None:
    """Sign the browser in: Flask-Login's user id, and the token that must stay live."""
    login_user(user)
    flask_session[SESSION_TOKEN_KEY] = token


def forget_session() -> None:
    logout_user()
    flask_session.pop(SESSION_TOKEN_KEY, None)


def client_address() -> str:
    """The peer's address; behind TRUSTED_PROXIES, ProxyFix has put the forwarded one there."""
    return request.remote_addr or ""
