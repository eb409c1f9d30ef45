"""Guard checks: reusable safeguards that keep a failure from coming back."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, LabelledEnum, utcnow

if TYPE_CHECKING:  # the incident module imports this one
    from models.incident import ActionItem


class GuardKind(LabelledEnum):
    AUTOMATED_TEST = "AUTOMATED_TEST"
    CI_GATE = "CI_GATE"
    MONITOR = "MONITOR"
    CHECKLIST_ITEM = "CHECKLIST_ITEM"
    REVIEW_RULE = "REVIEW_RULE"
    RUNBOOK = "RUNBOOK"
    OTHER = "OTHER"

    _labels = enum.nonmember(
        {
            "AUTOMATED_TEST": "Automated test",
            "CI_GATE": "CI gate",
            "MONITOR": "Monitor or alert",
            "CHECKLIST_ITEM": "Checklist item",
            "REVIEW_RULE": "Review rule",
            "RUNBOOK": "Runbook",
            "OTHER": "Other",
        }
    )


class GuardStatus(LabelledEnum):
    PROPOSED = "PROPOSED"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class GuardCheck(Base):
    __tablename__ = "guard_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[GuardKind]
    location: Mapped[str] = mapped_column(String(500), default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str | None] = mapped_column(Text)  # rendered when saved
    owner: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[GuardStatus] = mapped_column(default=GuardStatus.PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    action_items: Mapped[list["ActionItem"]] = relationship(
        secondary="action_item_guard", back_populates="guards", order_by="ActionItem.id"
    )
