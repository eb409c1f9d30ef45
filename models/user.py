"""People who sign in, their role, their signed-in sessions and failed sign-ins."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import Base, LabelledEnum, utcnow
from models.team import Team


class Role(LabelledEnum):
    """Roles in increasing order of power; each can do what the ones before it can."""

    READER = "READER"
    AUTHOR = "AUTHOR"
    REVIEWER = "REVIEWER"
    ADMIN = "ADMIN"

    _ranks = enum.nonmember({"READER": 0, "AUTHOR": 1, "REVIEWER": 2, "ADMIN": 3})

    def __ge__(self, other: "Role") -> bool:
        return self._ranks[self.name] >= self._ranks[other.name]


class User(UserMixin, Base):
    __tablename__ = "user_account"  # "user" is a reserved word in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(default=Role.READER)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team | None] = relationship()

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt: memory-hard, salted, with the parameters in the hash.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def can(self, role: Role) -> bool:
        """Whether this user has at least `role`."""
        return self.is_active and self.role >= role

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __str__(self) -> str:
        return self.display_name


class UserSession(Base):
    """One sign-in on one browser. The browser keeps a random token; only its hash is stored,
    so a leaked table signs nobody in. A session ends for good when `ended_at` is set, and is
    refused once idle or old beyond the configured lifetimes; `last_seen_at` moves at most once
    a minute (see auth/service.py)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class ApiRequestCount(Base):
    """API requests counted in one minute's fixed window, per key ("token:7", "address:…",
    "failed:…"), in the database so that every worker process counts the same requests.
    Windows older than an hour are deleted as new ones begin."""

    __tablename__ = "api_request_count"

    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class SignInFailure(Base):
    """A wrong password, kept for a while so that every worker process counts the same guesses.

    Not linked to an account: the email is whatever was typed (normalised), known or not.
    """

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
