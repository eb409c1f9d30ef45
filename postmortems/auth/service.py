"""Accounts: creating and changing users, sessions that sign-out really ends (and with them the
account's API tokens), session lifetimes, failed sign-ins counted in the database, and where a
sign-in may send you next."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from sqlalchemy import Executable, Select, bindparam, case, delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from models import ApiToken, Role, SignInFailure, Team, User, UserSession, utcnow
from postmortems.db import bookkeeping, session
from postmortems.domain import DomainError, Problems

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200  # hashing is slow on purpose; a megabyte of password would be slower
EMAIL_LENGTH = 254
NAME_LENGTH = 120
# A light shape check: the real test of an address is that mail reaches it.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_LENGTH = 64

# Failed sign-ins count for a minute; older rows are useless and deleted after an hour.
FAILURE_WINDOW = timedelta(minutes=1)
FAILURES_KEPT = timedelta(hours=1)

SIGN_IN_FAILED = "Wrong email or password."
# The same words whether or not the email has an account, so the refusal reveals nothing.
TOO_MANY_SIGN_INS = "Too many failed sign-ins from here. Wait a minute and try again."
TOO_MANY_GUESSES = "Too many wrong passwords. Wait a minute and try again."
WRONG_CURRENT_PASSWORD = "This is not your current password."

# Why an account's sessions and tokens ended, as kept on each revoked token.
PASSWORD_CHANGED = "password changed"
SIGNED_OUT_EVERYWHERE = "signed out everywhere"
PASSWORD_RESET_BY_ADMIN = "password reset by an admin"
PASSWORD_SET_FROM_CLI = "password set with flask users set-password"
DEACTIVATED = "account deactivated"

# A session's "last seen" time moves at most this often: a write on every page would make
# every request wait for the database's write lock.
LAST_SEEN_EVERY = timedelta(minutes=1)


class AccountError(DomainError):
    """A request about accounts that would break a rule."""


class TooManyFailures(AccountError):
    """Refused before the password was even checked: too many recent failures."""


@dataclass(frozen=True)
class SessionLifetimes:
    """How long a session lives without a request (idle), and at most after sign-in."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class SessionCheck:
    """The signed-in user, or None; `ended` says why this check ended the session, if it did:
    "idle" or "lifetime"."""

    user: User | None
    ended: str | None = None


@dataclass(frozen=True)
class FailureLimits:
    """How many failures within a minute refuse further attempts."""

    per_account_and_address: int
    per_address: int


def normalise_email(email: str) -> str:
    # NUL is dropped as in every text field: PostgreSQL refuses it, and no one types it.
    return email.replace("\x00", "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


# Accounts


def create_user(
    email: str,
    password: str,
    role: Role,
    *,
    name: str = "",
    team_id: int | None = None,
    is_active: bool = True,
) -> User:
    """Add an account; the email must be new and the password long enough."""
    email = normalise_email(email)
    problems = Problems()
    _check_account(problems, None, email=email, name=name, team_id=team_id)
    _check_password(problems, "password", password)
    problems.raise_if_any(AccountError)
    user = User(email=email, name=name, role=role, team_id=team_id, is_active=is_active)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def update_user(
    user: User,
    *,
    by: User,
    email: str,
    name: str,
    role: Role,
    team_id: int | None,
    is_active: bool,
    password: str = "",
    keep_session: str | None = None,
) -> None:
    """An admin's change to an account. An empty password keeps the current one.

    A new password or a deactivation ends the account's sessions, except `keep_session` (the
    token of the admin's own session, when they set their own password), and its API tokens.
    """
    email = normalise_email(email)
    problems = Problems()
    _check_account(problems, user, email=email, name=name, team_id=team_id)
    if password:
        _check_password(problems, "password", password)
    if user.id == by.id:
        if role is not Role.ADMIN:
            problems.add("role", "You cannot take away your own admin rights.")
        if not is_active:
            problems.add("is_active", "You cannot deactivate your own account.")
    problems.raise_if_any(AccountError)
    deactivated = user.is_active and not is_active
    user.email, user.name, user.role, user.team_id = email, name, role, team_id
    user.is_active = is_active
    if password:
        user.set_password(password)
    if deactivated:
        end_sessions(user.id, DEACTIVATED, keep=keep_session)
    elif password:
        end_sessions(user.id, PASSWORD_RESET_BY_ADMIN, keep=keep_session)
    session.flush()


def set_password(
    user: User,
    password: str,
    *,
    reason: str = PASSWORD_SET_FROM_CLI,
    keep_session: str | None = None,
) -> None:
    """Give the account a new password and end its sessions (all but `keep_session`) and
    its API tokens."""
    problems = Problems()
    _check_password(problems, "password", password)
    problems.raise_if_any(AccountError)
    user.set_password(password)
    end_sessions(user.id, reason, keep=keep_session)
    session.flush()


def change_password(
    user: User,
    *,
    current_password: str,
    new_password: str,
    address: str,
    limits: FailureLimits,
    keep_session: str | None,
) -> None:
    """The user's own change: the current password first, then the new one.

    Wrong guesses at the current password count like failed sign-ins of the account from
    this address, so a stolen session is no better at guessing than the sign-in page. A wrong
    guess is flushed before AccountError is raised: commit it, or it does not count.
    """
    if is_refused(user.email, address, limits):
        raise TooManyFailures(fields={"current_password": [TOO_MANY_GUESSES]})
    if not user.check_password(current_password):
        record_failure(user.email, address)
        raise AccountError(fields={"current_password": [WRONG_CURRENT_PASSWORD]})
    problems = Problems()
    _check_password(problems, "new_password", new_password)
    problems.raise_if_any(AccountError)
    user.set_password(new_password)
    end_sessions(user.id, PASSWORD_CHANGED, keep=keep_session)
    session.flush()


def _check_account(
    problems: Problems, editing: User | None, *, email: str, name: str, team_id: int | None
) -> None:
    if not EMAIL_SHAPE.match(email):
        problems.add("email", "This is not an email address.")
    problems.check_length("email", email, EMAIL_LENGTH)
    problems.check_length("name", name, NAME_LENGTH)
    other = get_user_by_email(email)
    if other is not None and other is not editing:
        problems.add("email", "Another account has this email.")
    if team_id is not None and session.get(Team, team_id) is None:
        problems.add("team_id", "There is no such team.")


def _check_password(problems: Problems, field: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.add(field, f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    problems.check_length(field, password, MAX_PASSWORD_LENGTH)


def random_password() -> str:
    return secrets.token_urlsafe(12)


# Signing in


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so that a wrong email takes as long as a
    wrong password and the timing does not tell whether an account exists. Made on first use:
    hashing is slow on purpose, and every start of the app would pay for it."""
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for any reason)."""
    user = get_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def sign_in(email: str, password: str, *, address: str, limits: FailureLimits) -> tuple[User, str]:
    """Check the password and start a session; return the user and the session's token.

    Refused with TooManyFailures, before any password is checked, after too many recent
    failures for this email from this address or from this address at all: failures from
    elsewhere never lock an account. A failure is flushed before AccountError is raised:
    commit it, or it does not count.
    """
    email = normalise_email(email)
    if is_refused(email, address, limits):
        raise TooManyFailures(fields={"password": [TOO_MANY_SIGN_INS]})
    user = authenticate(email, password)
    if user is None:
        record_failure(email, address)
        raise AccountError(fields={"password": [SIGN_IN_FAILED]})
    return user, start_session(user)


def is_refused(email: str, address: str, limits: FailureLimits) -> bool:
    """Whether the last minute's failures for this email and address, or for this address,
    reached their limits."""
    address = address[:ADDRESS_LENGTH]
    for_account = func.count(case((SignInFailure.email == normalise_email(email), 1)))
    stmt = select(for_account, func.count()).where(
        SignInFailure.address == address, SignInFailure.at >= utcnow() - FAILURE_WINDOW
    )
    account_failures, address_failures = session.execute(stmt).one()
    return (
        account_failures >= limits.per_account_and_address or address_failures >= limits.per_address
    )


def record_failure(email: str, address: str) -> None:
    """Count one failed attempt, and forget those too old to matter (cheap: `at` is indexed)."""
    now = utcnow()
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - FAILURES_KEPT))
    email, address = normalise_email(email)[:EMAIL_LENGTH], address[:ADDRESS_LENGTH]
    session.add(SignInFailure(email=email, address=address, at=now))
    session.flush()


# Sessions


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Record a new session of `user`; return its random token, for the browser to keep."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(user_id=user.id, token_hash=hash_token(token), created_at=now, last_seen_at=now)
    )
    session.flush()
    return token


@cache
def _live_session_query() -> Select[User, int, datetime, datetime]:
    """The user and live session of a token, built once: it runs on every request, and
    building a statement costs more than SQLite takes to run it."""
    return (
        select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == bindparam("user_id"),
            User.is_active.is_(True),
            UserSession.token_hash == bindparam("token_hash"),
            UserSession.ended_at.is_(None),
        )
    )


def check_session(user_id: int, token: str, lifetimes: SessionLifetimes) -> SessionCheck:
    """The active user whose live session has this token, read in one query (it runs on every
    request); None when the session was ended, belongs to someone else or never existed.

    A session idle for longer than `lifetimes.idle`, or older than `lifetimes.absolute`, is
    ended here and answered with the reason. Otherwise its "last seen" time moves, at most once
    a minute.
    """
    params = {"user_id": user_id, "token_hash": hash_token(token)}
    row = session.execute(_live_session_query(), params).first()
    if row is None:
        return SessionCheck(None)
    user, session_id, created_at, last_seen_at = row
    now = utcnow()
    ended = (
        "lifetime"
        if now - created_at >= lifetimes.absolute
        else "idle"
        if now - last_seen_at >= lifetimes.idle
        else None
    )
    this_session = update(UserSession).where(UserSession.id == session_id)
    if ended is not None:
        _write_bookkeeping(this_session.values(ended_at=now))
        return SessionCheck(None, ended)
    if now - last_seen_at >= LAST_SEEN_EVERY:
        _write_bookkeeping(this_session.values(last_seen_at=now))
    return SessionCheck(user)


def _write_bookkeeping(stmt: Executable) -> None:
    """Run a bookkeeping write (a session's last-seen or end time) in its own transaction."""
    with bookkeeping() as writer:
        writer.execute(stmt)


def end_session(token: str) -> None:
    """End the session with this token for good: the cookie that carries it no longer works."""
    stmt = (
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    session.execute(stmt)


def end_sessions(user_id: int, reason: str, *, keep: str | None = None) -> None:
    """End every live session of the user, all but the one with token `keep` if given, and
    revoke every live API token of theirs for `reason`.

    The one place that signs an account out everywhere (a password change or reset, "sign out
    everywhere", deactivation): a token must not outlive the event, nor a stolen session mint
    one that does. Revoked tokens stay revoked when the account is reactivated.
    """
    now = utcnow()
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    if keep is not None:
        stmt = stmt.where(UserSession.token_hash != hash_token(keep))
    session.execute(stmt)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
