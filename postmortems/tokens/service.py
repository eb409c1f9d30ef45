"""Personal API tokens: made (the secret shown once) with an expiry, listed, revoked, and
checked.

A token is 32 random bytes; only the SHA-256 of its text is stored, with its first characters
to tell it apart. The API authenticates with `authenticate` and nothing else: cookies never do.
Every token expires (API_TOKEN_DEFAULT_DAYS unless its maker picks up to API_TOKEN_MAX_DAYS);
the events that sign an account out everywhere revoke its tokens too (auth.service.end_sessions).
"""

import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from models import ApiToken, User, utcnow
from postmortems.audit.service import record_event
from postmortems.auth.service import hash_token
from postmortems.db import bookkeeping, session
from postmortems.domain import DomainError, Problems

# Every token starts with this, so that a secret scanner (or a person) can recognise one.
TOKEN_PREFIX = "pmt_"
PREFIX_SHOWN = len(TOKEN_PREFIX) + 6
NAME_LENGTH = 120
# Using a token moves its "last used" time at most this often: a write on every API request
# would make every read wait for the database's write lock.
LAST_USED_EVERY = timedelta(minutes=1)
REVOKED_BY_OWNER = "revoked on the tokens page"
MAKE_ANOTHER = "make a new one on the API tokens page"


class TokenError(DomainError):
    """A token change that would break a rule."""


class TokenRefused(Exception):
    """A known token that no longer opens the API: expired or revoked; the message says which."""


class TokenOwner(NamedTuple):
    token_id: int
    user_id: int


def default_days() -> int:
    return int(current_app.config["API_TOKEN_DEFAULT_DAYS"])


def max_days() -> int:
    return int(current_app.config["API_TOKEN_MAX_DAYS"])


def create_token(user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user` that expires in `days` (the configured default when None);
    return it and its secret, which is never shown again."""
    problems = Problems()
    name = name.strip()
    if not name:
        problems.add("name", "Name the token after where it will be used (e.g. “CI”).")
    problems.check_length("name", name, NAME_LENGTH)
    days = default_days() if days is None else days
    if not 1 <= days <= max_days():
        problems.add("expires_in_days", f"Choose from 1 to {max_days()} days.")
    if not user.is_active:
        problems.add("email", "This account is deactivated.")
    problems.raise_if_any(TokenError)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:PREFIX_SHOWN],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record_event(
        "created API token",
        "user",
        user.id,
        f"{user.email}: {name} ({token.prefix}…), expires {_day(token.expires_at)}",
    )
    return token, secret


def list_tokens(user: User) -> Select[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    ended = or_(ApiToken.revoked_at.is_not(None), ApiToken.expires_at <= utcnow())
    return (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ended, ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def get_own_token(user: User, token_id: int) -> ApiToken | None:
    return session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke_token(token: ApiToken) -> None:
    """Revoke for good (revoking twice changes nothing)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_reason = REVOKED_BY_OWNER
        session.flush()
        record_event("revoked API token", "user", token.user_id, f"{token.name} ({token.prefix}…)")


def authenticate(secret: str) -> TokenOwner | None:
    """The token and the active user it belongs to, or None for an unknown token or one of a
    deactivated account; TokenRefused for a revoked or expired one, saying which.

    It runs before the request's own transaction, in short sessions of its own: the lookup
    reads, and the "last used" time (at most once a minute) commits on its own, so that an API
    request that only reads never waits for the write lock, and one that writes does not wait
    for itself.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    stmt = (
        select(
            ApiToken.id,
            ApiToken.user_id,
            ApiToken.last_used_at,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.revoked_reason,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret), User.is_active.is_(True))
    )
    reader: Session
    with current_app.extensions["db_sessionmaker"]() as reader:
        row = reader.execute(stmt).first()
    if row is None:
        return None
    token_id, user_id, last_used_at, expires_at, revoked_at, reason = row
    now = utcnow()
    if revoked_at is not None:
        because = f" ({reason})" if reason else ""
        raise TokenRefused(
            f"This API token was revoked on {_day(revoked_at)}{because}; {MAKE_ANOTHER}."
        )
    if now >= expires_at:
        raise TokenRefused(f"This API token expired on {_day(expires_at)}; {MAKE_ANOTHER}.")
    if last_used_at is None or now - last_used_at >= LAST_USED_EVERY:
        with bookkeeping() as writer:
            writer.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return TokenOwner(int(token_id), int(user_id))


def _day(moment: datetime) -> str:
    """A UTC day, as the API's messages and the audit log name it."""
    return moment.date().isoformat()
