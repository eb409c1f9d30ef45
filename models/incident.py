"""The incident (postmortem) aggregate: the incident and the parts that live and die with it."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import REFERENCE_EARLIEST, Base, UTCDateTime, utcnow
from models.guard import GuardCheck
from models.incident_terms import (
    ActionStatus,
    ActionType,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    ReviewAction,
    Severity,
)
from models.taxonomy import ContributingFactor
from models.team import Team
from models.user import User

incident_tag = Table(
    "incident_tag",
    Base.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    # The tag filter and the tag list go from a tag to its incidents.
    Index("ix_incident_tag_tag_id_incident_id", "tag_id", "incident_id"),
)

incident_access = Table(
    "incident_access",
    Base.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_incident_access_user_id", "user_id"),  # a reader's "named on" set
)

action_item_guard = Table(
    "action_item_guard",
    Base.metadata,
    Column("action_item_id", ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True),
    Column("guard_check_id", ForeignKey("guard_check.id", ondelete="CASCADE"), primary_key=True),
    # Guard pages go from a guard to the action items that link to it.
    Index("ix_action_item_guard_guard_check_id_action_item_id", "guard_check_id", "action_item_id"),
)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class IncidentKeyCounter(Base):
    """The last number given out for one key prefix ("PM-2020"): keys come from here, taken with
    one atomic upsert, so that two postmortems filed at the same instant get different keys."""

    __tablename__ = "incident_key_counter"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int]


# A postmortem's Markdown sections in reading order, each with its heading: the one list that
# forms, pages, booklets, search, history, exports and the API follow.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("what_happened_md", "What happened"),
    ("analysis_md", "Analysis"),
    ("detection_md", "Detection"),
    ("response_md", "Response and recovery"),
    ("went_well_md", "What went well"),
    ("got_lucky_md", "Where we got lucky"),
)
SECTION_NAMES = tuple(name for name, _ in SECTIONS)


class Incident(Base):
    __tablename__ = "incident"
    # The list's order (newest first, then by id) read straight from an index.
    __table_args__ = (
        Index("ix_incident_started_at_id", "started_at", "id"),
        # Every column the report figures read from an incident, after its start: the reports
        # scan this narrow index instead of the wide rows (Markdown and its HTML).
        Index(
            "ix_incident_report_figures",
            "started_at",
            "exclude_from_metrics",
            "is_near_miss",
            "team_id",
            "severity",
            "status",
            "detected_at",
            "mitigated_at",
            "resolved_at",
            "recurrence_of_id",
            "source_collection",
        ),
        # An external reference is found again by its collection and its id there. Partial, so
        # that it holds no row of our own incidents: a planner looking for "no collection"
        # (every report figure) walked the whole of it instead of the covering index above.
        Index(
            "uq_incident_source",
            "source_collection",
            "external_id",
            unique=True,
            sqlite_where=text("source_collection IS NOT NULL"),
            postgresql_where=text("source_collection IS NOT NULL"),
        ),
        # Our own incidents always have a start; another organisation's may state none.
        CheckConstraint(
            "started_at IS NOT NULL OR source_collection IS NOT NULL", name="started_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    severity: Mapped[Severity] = mapped_column(default=Severity.SEV3, index=True)
    status: Mapped[IncidentStatus] = mapped_column(default=IncidentStatus.DRAFT, index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", ondelete="SET NULL"), index=True
    )
    # Indexed: similar postmortems are found by their affected system (postmortems/knowledge).
    affected_system: Mapped[str] = mapped_column(String(200), default="", index=True)
    environment: Mapped[str] = mapped_column(String(60), default="")

    # None only for an external reference whose source states no start ("start unknown").
    # The four times may go back to REFERENCE_EARLIEST, as an external source states them; the
    # services keep our own incidents within 1970–2100. The old value is loaded when a new one
    # is set: a move to another month must move the figure versions of both months
    # (reports/versions.py).
    started_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(REFERENCE_EARLIEST), active_history=True
    )
    started_is_estimated: Mapped[bool] = mapped_column(default=False)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(REFERENCE_EARLIEST))
    detected_is_estimated: Mapped[bool] = mapped_column(default=False)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(REFERENCE_EARLIEST))
    mitigated_is_estimated: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(REFERENCE_EARLIEST))
    resolved_is_estimated: Mapped[bool] = mapped_column(default=False)

    what_happened_md: Mapped[str] = mapped_column(Text, default="")
    analysis_md: Mapped[str] = mapped_column(Text, default="")
    detection_md: Mapped[str] = mapped_column(Text, default="")
    response_md: Mapped[str] = mapped_column(Text, default="")
    went_well_md: Mapped[str] = mapped_column(Text, default="")
    got_lucky_md: Mapped[str] = mapped_column(Text, default="")
    # Each *_md section rendered to sanitised HTML when saved (see postmortems/markdown.py);
    # None until rendered, and then the page renders it itself.
    what_happened_html: Mapped[str | None] = mapped_column(Text)
    analysis_html: Mapped[str | None] = mapped_column(Text)
    detection_html: Mapped[str | None] = mapped_column(Text)
    response_html: Mapped[str | None] = mapped_column(Text)
    went_well_html: Mapped[str | None] = mapped_column(Text)
    got_lucky_html: Mapped[str | None] = mapped_column(Text)

    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    owner_name: Mapped[str] = mapped_column(String(120), default="")  # someone without an account
    # Restricted: only the people named on it, its team's members and admins see it.
    is_restricted: Mapped[bool] = mapped_column(default=False)

    is_near_miss: Mapped[bool] = mapped_column(default=False)
    exclude_from_metrics: Mapped[bool] = mapped_column(default=False)
    recurrence_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    # An external reference postmortem: another organisation's incident, imported from a public
    # collection (postmortems/transfer). Readable and searchable, never counted as ours. Both
    # None for our own postmortems.
    source_collection: Mapped[str | None] = mapped_column(String(40))  # "icco", "moj"
    external_id: Mapped[str | None] = mapped_column(String(200))
    source_organisation: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped on every UPDATE; a save based on an older version is refused, not applied.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    team: Mapped[Team | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    access_users: Mapped[list[User]] = relationship(secondary=incident_access, order_by=User.email)
    recurrence_of: Mapped["Incident | None"] = relationship(remote_side=[id])
    tags: Mapped[list[Tag]] = relationship(secondary=incident_tag, order_by=Tag.name)
    timeline: Mapped[list["TimelineEvent"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="TimelineEvent.at"
    )
    factors: Mapped[list["IncidentFactor"]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="(IncidentFactor.is_primary.desc(), IncidentFactor.id)",
    )
    impacts: Mapped[list["ImpactEstimate"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="ImpactEstimate.id"
    )
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Lesson.id"
    )
    action_items: Mapped[list["ActionItem"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="ActionItem.id"
    )
    review_comments: Mapped[list["ReviewComment"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="ReviewComment.id"
    )
    revisions: Mapped[list["IncidentRevision"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentRevision.number"
    )

    @property
    def owner_label(self) -> str:
        return self.owner.display_name if self.owner else self.owner_name

    @property
    def is_external(self) -> bool:
        """Whether this is another organisation's incident, kept for reference only."""
        return self.source_collection is not None

    @property
    def time_to_detect(self) -> timedelta | None:
        if self.detected_at is None or self.started_at is None:
            return None
        return self.detected_at - self.started_at

    @property
    def time_to_mitigate(self) -> timedelta | None:
        if self.detected_at is None or self.mitigated_at is None:
            return None
        return self.mitigated_at - self.detected_at

    @property
    def time_to_resolve(self) -> timedelta | None:
        if self.resolved_at is None or self.started_at is None:
            return None
        return self.resolved_at - self.started_at


class TimelineEvent(Base):
    __tablename__ = "timeline_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every UPDATE, so two people editing this part cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    text_md: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class IncidentFactor(Base):
    """A contributing factor named on one incident, with a note; one may be primary."""

    __tablename__ = "incident_factor"
    __table_args__ = (
        UniqueConstraint("incident_id", "factor_id"),
        # Counts per factor and the category filter go from a factor to its incidents.
        Index("ix_incident_factor_factor_id_incident_id", "factor_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every UPDATE, so two people editing this part cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    factor_id: Mapped[int] = mapped_column(ForeignKey("contributing_factor.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str | None] = mapped_column(Text)
    is_primary: Mapped[bool] = mapped_column(default=False)

    incident: Mapped[Incident] = relationship(back_populates="factors")
    factor: Mapped[ContributingFactor] = relationship()


class ImpactEstimate(Base):
    """One dimension of harm: a low / likely / high range with a unit or currency, or a level."""

    __tablename__ = "impact_estimate"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every UPDATE, so two people editing this part cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ImpactKind]
    low: Mapped[Decimal | None]
    likely: Mapped[Decimal | None]
    high: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217, money kinds only
    unit: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[ImpactLevel | None]
    method_note: Mapped[str] = mapped_column(Text, default="")
    estimated_by: Mapped[str] = mapped_column(String(120), default="")

    incident: Mapped[Incident] = relationship(back_populates="impacts")

    @property
    def unit_label(self) -> str:
        return self.currency or self.unit


class Lesson(Base):
    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every UPDATE, so two people editing this part cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    group: Mapped[LessonGroup]
    text_md: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="lessons")


class ActionItem(Base):
    __tablename__ = "action_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every UPDATE, so two people editing this part cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    details_md: Mapped[str] = mapped_column(Text, default="")
    details_html: Mapped[str | None] = mapped_column(Text)
    group: Mapped[LessonGroup]
    type: Mapped[ActionType]
    owner: Mapped[str] = mapped_column(String(120), default="")  # someone without an account
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date | None]
    status: Mapped[ActionStatus] = mapped_column(default=ActionStatus.OPEN)
    wont_do_reason: Mapped[str] = mapped_column(Text, default="")
    # The quarterly review counts the items closed in its quarter, whatever the incident.
    completed_on: Mapped[date | None] = mapped_column(index=True)
    # The day a won't-do item was decided; None for items decided before it was recorded.
    decided_on: Mapped[date | None] = mapped_column(index=True)  # the quarter's closed items
    tracker_url: Mapped[str] = mapped_column(String(500), default="")

    incident: Mapped[Incident] = relationship(back_populates="action_items")
    guards: Mapped[list[GuardCheck]] = relationship(
        secondary=action_item_guard, back_populates="action_items", order_by=GuardCheck.name
    )
    owner_user: Mapped[User | None] = relationship()

    @property
    def owner_label(self) -> str:
        return self.owner_user.display_name if self.owner_user else self.owner


class ReviewComment(Base):
    """A step of the review workflow, with what the person said."""

    __tablename__ = "review_comment"
    # A reviewer's home page finds what they sent back by who wrote the comment.
    __table_args__ = (Index("ix_review_comment_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[ReviewAction]
    text: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship(back_populates="review_comments")
    user: Mapped[User | None] = relationship()


class IncidentRevision(Base):
    """The whole postmortem, parts included, as it was after one change."""

    __tablename__ = "incident_revision"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    number: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    incident: Mapped[Incident] = relationship(back_populates="revisions")
    user: Mapped[User | None] = relationship()
