"""Guard checks: reusable safeguards that keep a failure from coming back."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, LabelledEnum, utcnow

if TYPE_CHECKING:  # the incident module imports this one
    from models.incident import ActionItem
    from models.user import User


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


# How often a guard must be seen passing unless its form says otherwise, and the bounds.
DEFAULT_FRESHNESS_DAYS = 7
MAX_FRESHNESS_DAYS = 3650


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
    # It must be seen passing at least once in this many days, or it is stale.
    freshness_days: Mapped[int] = mapped_column(
        default=DEFAULT_FRESHNESS_DAYS, server_default=str(DEFAULT_FRESHNESS_DAYS)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    action_items: Mapped[list["ActionItem"]] = relationship(
        secondary="action_item_guard", back_populates="guards", order_by="ActionItem.id"
    )


class RunStatus(LabelledEnum):
    PASS = "PASS"
    FAIL = "FAIL"

    _labels = enum.nonmember({"PASS": "Passed", "FAIL": "Failed"})


class GuardRun(Base):
    """One verification run of a guard check, as a CI job, a script or a person reported it."""

    __tablename__ = "guard_run"
    __table_args__ = (
        # A guard's runs newest first (its history, its last run) read along one index...
        Index("ix_guard_run_guard_check_id_ran_at_id", "guard_check_id", "ran_at", "id"),
        # ...and its last pass, or its passes and failures in a span, along another.
        Index("ix_guard_run_guard_check_id_status_ran_at", "guard_check_id", "status", "ran_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guard_check_id: Mapped[int] = mapped_column(ForeignKey("guard_check.id", ondelete="CASCADE"))
    status: Mapped[RunStatus]
    ran_at: Mapped[datetime]
    url: Mapped[str | None] = mapped_column(String(2000))
    details: Mapped[str] = mapped_column(String(2000), default="")
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    guard: Mapped[GuardCheck] = relationship()
    reported_by: Mapped["User | None"] = relationship()


class EscapedGuard(Base):
    """A guard check that a recurrence got past: the earlier postmortem's action items relied
    on it, and it was in place (active, and added before the recurrence started)."""

    __tablename__ = "escaped_guard"
    __table_args__ = (
        UniqueConstraint("incident_id", "guard_check_id"),
        Index("ix_escaped_guard_guard_check_id_incident_id", "guard_check_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    guard_check_id: Mapped[int] = mapped_column(ForeignKey("guard_check.id", ondelete="CASCADE"))
    earlier_incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    guard: Mapped[GuardCheck] = relationship()
