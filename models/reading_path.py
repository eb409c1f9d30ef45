"""Reading paths: curated, ordered lists of postmortems for onboarding, and who has read what."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.incident import Incident
from models.team import Team
from models.user import User


class ReadingPath(Base):
    """An ordered list of postmortems with a note on each ("First week in the ML team").

    Its audience: the members of `team`, and/or every new user (`for_new_users`); a path with
    neither is for whoever finds it in the list (see paths/service.py `meant_for`).
    """

    __tablename__ = "reading_path"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    description_md: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", ondelete="SET NULL"), index=True
    )
    for_new_users: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list["ReadingPathItem"]] = relationship(
        back_populates="path",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReadingPathItem.position",
    )

    def __str__(self) -> str:
        return self.title


class ReadingPathItem(Base):
    """One postmortem on a path, at a position (ascending; gaps allowed), with why to read it."""

    __tablename__ = "reading_path_item"
    __table_args__ = (
        UniqueConstraint("path_id", "incident_id"),
        UniqueConstraint("path_id", "position", name="uq_reading_path_item_path_id_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("reading_path.id", ondelete="CASCADE"))
    position: Mapped[int]
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    note_md: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    path: Mapped[ReadingPath] = relationship(back_populates="items")
    incident: Mapped[Incident] = relationship()


class ReadingProgress(Base):
    """A reader marked an item of a path read (unmarking deletes the row)."""

    __tablename__ = "reading_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id"),
        # Who has read a path: from its items to their readers.
        Index("ix_reading_progress_item_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("reading_path_item.id", ondelete="CASCADE"))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    item: Mapped[ReadingPathItem] = relationship()
