"""Frozen reports: a report's figures as they stood at a data cut-off, kept to be shown again."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class FrozenReport(Base):
    """The figures of one report (its JSON payload, as the report rendered it) stored when a
    reviewer froze it; `data_cutoff_at` is when the data they were computed from was read."""

    __tablename__ = "frozen_report"
    __table_args__ = (Index("ix_frozen_report_kind_period", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "quarterly"
    period: Mapped[str] = mapped_column(String(20))  # "2020Q4"
    filters: Mapped[str] = mapped_column(String(200), default="")  # as a query string
    figures_json: Mapped[str] = mapped_column(Text)
    data_cutoff_at: Mapped[datetime] = mapped_column(default=utcnow)
    data_version: Mapped[int] = mapped_column(default=0)
    frozen_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    frozen_by_name: Mapped[str] = mapped_column(String(120), default="")

    frozen_by: Mapped[User | None] = relationship()
