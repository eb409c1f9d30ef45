"""The browser's half of a signed-in session: the token in Flask's signed cookie that names a
live `UserSession` row, its lifetimes from the configuration, and the client's address that
failed sign-ins are counted against."""

from datetime import timedelta

from flask import Request, current_app, flash, g, request
from flask import session as flask_session
from flask_login import login_user, logout_user

from models import User
from postmortems.auth.service import SessionLifetimes, check_session

# Where Flask's session cookie keeps the token; the database keeps only its hash.
SESSION_TOKEN_KEY = "sid"
# Where the API keeps the user of a request's live bearer token, for the request loader.
TOKEN_USER_KEY = "api_token_user"


def session_token() -> str | None:
    """This browser's session token, if it has one."""
    token = flask_session.get(SESSION_TOKEN_KEY)
    return token if isinstance(token, str) else None


def remember_session(user: User, token: str) -> None:
    """Sign the browser in: Flask-Login's user id, and the token that must stay live."""
    login_user(user)
    flask_session[SESSION_TOKEN_KEY] = token


def session_lifetimes() -> SessionLifetimes:
    """The idle and absolute lifetimes of a session, from the configuration."""
    config = current_app.config
    return SessionLifetimes(
        idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(days=config["SESSION_LIFETIME_DAYS"]),
    )


def signed_out_message(ended: str) -> str:
    """What the sign-in page says about a session that ended by itself."""
    config = current_app.config
    if ended == "lifetime":
        days = config["SESSION_LIFETIME_DAYS"]
        return f"Your session reached its {days}-day limit; sign in again."
    minutes = config["SESSION_IDLE_MINUTES"]
    hours, rest = divmod(minutes, 60)
    idle = f"{hours} hours" if hours and not rest else f"{minutes} minutes"
    return f"You were signed out after {idle} without activity."


def load_session_user(user_id: str) -> User | None:
    """The user only while the browser's token names a live session of theirs (Flask-Login's
    user loader). A session that this check finds idle or too old ends, and the sign-in page
    the browser is sent to says why."""
    if is_api_request():  # the API's caller is its token's user, never a cookie's
        return None
    token = session_token()
    if not user_id.isdigit() or token is None:
        return None
    result = check_session(int(user_id), token, session_lifetimes())
    if result.ended is not None:
        flask_session.pop(SESSION_TOKEN_KEY, None)
        flash(signed_out_message(result.ended))
    return result.user


def is_api_request() -> bool:
    """Whether this request is the JSON API's, which authenticates by bearer token only."""
    return request.path.startswith("/api/")


def set_token_user(user: User) -> None:
    """The API found a live bearer token of `user`: this request is theirs."""
    setattr(g, TOKEN_USER_KEY, user)


def load_token_user(request: Request) -> User | None:
    """Flask-Login's request loader: on an API request, the user the API's token check found
    (`set_token_user`); anywhere else, or before that check, no one."""
    return g.get(TOKEN_USER_KEY) if is_api_request() else None


def forget_session() -> None:
    logout_user()
    flask_session.pop(SESSION_TOKEN_KEY, None)


def client_address() -> str:
    """The peer's address; behind TRUSTED_PROXIES, ProxyFix has put the forwarded one there."""
    return request.remote_addr or ""
