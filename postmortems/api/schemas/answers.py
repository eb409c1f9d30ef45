"""What the API answers: postmortems and their parts, taxonomy, guard checks and their runs,
teams, stages, search results, reports."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models import (
    ActionStatus,
    ActionType,
    CauseCategory,
    GuardKind,
    GuardStatus,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    Severity,
)
from postmortems.api.schemas.common import Output


class Error(Output):
    error: str = Field(description="A stable code: bad_request, unauthorized, not_found…")
    message: str
    fields: dict[str, list[str]] = Field(description="Messages per field name (may be empty).")


class Created(Output):
    id: int
    key: str
    url: str


class TimelineEventOut(Output):
    id: int
    at: datetime
    text_md: str


class FactorOut(Output):
    id: int
    category: CauseCategory
    factor: str
    factor_id: int
    note: str
    is_primary: bool


class ImpactOut(Output):
    id: int
    kind: ImpactKind
    low: str | None
    likely: str | None
    high: str | None
    currency: str | None
    unit: str
    level: ImpactLevel | None
    method_note: str
    estimated_by: str


class LessonOut(Output):
    id: int
    group: LessonGroup
    text_md: str


class GuardRef(Output):
    id: int
    name: str


class ActionItemOut(Output):
    id: int
    title: str
    group: LessonGroup
    type: ActionType
    details_md: str
    owner: str
    due_on: date | None
    status: ActionStatus
    wont_do_reason: str
    completed_on: date | None
    decided_on: date | None = Field(description="Null when the decision's day is unknown.")
    tracker_url: str
    guards: list[GuardRef]


class PostmortemSummary(Output):
    id: int
    key: str
    url: str
    title: str
    summary: str
    severity: Severity | None  # None: an external reference, not graded by its source
    status: IncidentStatus
    team: str | None
    started_at: datetime | None  # None: an external reference whose source states no start
    is_near_miss: bool
    exclude_from_metrics: bool
    is_restricted: bool
    version: int


class Postmortem(PostmortemSummary):
    affected_system: str
    environment: str
    started_is_estimated: bool
    detected_at: datetime | None
    detected_is_estimated: bool
    mitigated_at: datetime | None
    mitigated_is_estimated: bool
    resolved_at: datetime | None
    resolved_is_estimated: bool
    what_happened_md: str
    analysis_md: str
    detection_md: str
    response_md: str
    went_well_md: str
    got_lucky_md: str
    tags: list[str]
    recurrence_of: str | None
    author: str | None
    owner: str
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineEventOut]
    factors: list[FactorOut]
    impacts: list[ImpactOut]
    lessons: list[LessonOut]
    action_items: list[ActionItemOut]
    publish_problems: list[str] = Field(description="What publishing still needs.")
    steps: list[Literal["submit", "publish", "send-back", "archive"]] = Field(
        description="The workflow steps you may take now."
    )


class PostmortemPage(Output):
    items: list[PostmortemSummary]
    page: int
    per_page: int
    total: int
    pages: int


class FactorEntry(Output):
    id: int
    name: str
    description: str


class CategoryEntry(Output):
    category: CauseCategory
    label: str
    factors: list[FactorEntry]


class Taxonomy(Output):
    categories: list[CategoryEntry]


class Guard(Output):
    id: int
    name: str
    kind: GuardKind
    status: GuardStatus
    freshness_days: int = Field(description="How often it must be seen passing.")
    location: str
    owner: str
    description_md: str
    created_at: datetime
    updated_at: datetime


GuardStateName = Literal["HEALTHY", "FAILING", "STALE", "NEVER_VERIFIED"]


class GuardDetail(Guard):
    postmortems: list[str] = Field(description="Keys of the postmortems it protects.")
    state: GuardStateName = Field(description="From its runs, now.")
    last_run_at: datetime | None
    last_pass_at: datetime | None


class GuardRunOut(Output):
    id: int
    guard_id: int
    status: Literal["PASS", "FAIL"]
    ran_at: datetime
    url: str | None
    details: str
    reported_by: str | None = Field(description="The email of the token's person.")
    state: GuardStateName = Field(description="The guard's state with this run counted.")


class GuardHealthRow(Output):
    id: int
    name: str
    owner: str
    status: GuardStatus
    state: GuardStateName
    freshness_days: int
    last_run_at: datetime | None
    last_pass_at: datetime | None


class OverdueActionItem(Output):
    id: int
    title: str
    owner: str
    due_on: date
    postmortem: str = Field(description="Its postmortem's key.")


class GuardsHealth(Output):
    """What `flask guards check` reports: `clean` is false when it would exit non-zero."""

    as_of: datetime
    clean: bool
    failing: list[GuardHealthRow]
    stale: list[GuardHealthRow]
    never_verified: int
    overdue_action_items: list[OverdueActionItem] = Field(description="The first 100.")
    overdue_action_items_total: int


class GuardList(Output):
    items: list[Guard]


class Snapshot(Output):
    on_date: date
    headcount: int


class TeamOut(Output):
    id: int
    name: str
    description: str
    snapshots: list[Snapshot]


class TeamList(Output):
    items: list[TeamOut]


class Stage(Output):
    id: int
    name: str
    min_headcount: int
    max_headcount: int | None
    description: str


class StageList(Output):
    items: list[Stage]


class SearchHit(Output):
    kind: str
    id: int
    incident_id: int | None
    incident_key: str | None = Field(description="The key of the postmortem it belongs to.")
    title_html: str = Field(description="Escaped, the matched words in <mark>.")
    snippet_html: str


class SearchResults(Output):
    query: str
    kind: str | None
    page: int
    per_page: int
    total: int
    total_is_capped: bool = Field(description="More than `total` matched.")
    message: str | None
    results: list[SearchHit]


class Report(BaseModel):
    """A report's JSON, the same payload as the report pages' .json (see the README)."""

    model_config = ConfigDict(extra="allow")
