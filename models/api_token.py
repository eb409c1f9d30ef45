"""Personal API tokens: a script acts as the person who made the token, with their role."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class ApiToken(Base):
    """A token sent as `Authorization: Bearer …` to /api/v1. Only the SHA-256 of its secret is
    stored (the secret is shown once, when made), so a leaked table authenticates nobody;
    `prefix` is its first characters, to tell one's tokens apart. A revoked token never works
    again, and neither do the tokens of a deactivated account. Every token has an expiry, chosen
    when it is made; `revoked_reason` says what ended it (its owner, a password change, ...)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship()

    @property
    def is_expired(self) -> bool:
        return utcnow() >= self.expires_at
