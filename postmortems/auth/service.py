"""Accounts: creating users, checking passwords, and where a sign-in may send you next."""

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select

from models import Role, User
from postmortems.db import session

MIN_PASSWORD_LENGTH = 10
# Checked against when the email is unknown, so that a wrong email takes as long as a wrong
# password and the timing does not tell whether an account exists.
_DUMMY = User(password_hash="")
_DUMMY.set_password(secrets.token_hex(16))


class AccountError(Exception):
    """A request about accounts that would break a rule."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str, password: str, role: Role, *, name: str = "", team_id: int | None = None
) -> User:
    """Add an account; the email must be new and the password long enough."""
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address.")
    if get_user_by_email(email) is not None:
        raise AccountError(f"An account for {email} exists already.")
    check_password_strength(password)
    user = User(email=email, name=name, role=role, team_id=team_id)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for any reason)."""
    user = get_user_by_email(email)
    if user is None:
        _DUMMY.check_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def random_password() -> str:
    return secrets.token_urlsafe(12)


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
