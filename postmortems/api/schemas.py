"""What the JSON API accepts and answers, as pydantic models: they parse requests (strictly:
unknown fields, wrong types and out-of-range values are refused, naming the field) and shape
answers, and the OpenAPI document's schemas are generated from them — one source of truth.

Only the form of a value is checked here; the domain rules (a title that is not blank, times in
order, a known currency…) stay in the services, whose errors the API passes on field by field.
Where JSON Schema can say such a rule, the schema states it too (`states`), so that the document
says everything the API enforces; the rules it cannot say are in the operations' descriptions.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

import pycountry
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
from postmortems.db import MAX_ID
from postmortems.incidents.parts import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS
from postmortems.limits import LONG_TEXT, NAME_TEXT
from postmortems.search.service import KINDS as SEARCH_KINDS

# Markdown fields have no length here: the Markdown limits (MARKDOWN_MAX_CHARS and the rest,
# postmortems/markdown.py) are checked for them after parsing, naming the field the same way.
MARKDOWN = "Markdown, within the Markdown limits (at most 100,000 characters by default)."

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A text the services refuse when it is blank: something other than white space.
NOT_BLANK = r"\S"
BLANK = r"^\s*$"
# The years of a stored instant (1970–2100 UTC), less the two days at its ends, where an
# offset could carry a time outside it; a leap second (:60) is no time Python can hold.
YEARS = r"(19[7-9][0-9]|20[0-9][0-9]|2100)"
IN_RANGE = (
    r"^(?!1970-01-01|2100-12-31)" + YEARS + r"-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-5][0-9]:[0-5][0-9]"
)
DAY_IN_RANGE = r"^(?!1970-01-01|2100-12-31)" + YEARS + r"-"
# What the services take as a link: http(s), a host, no white space or control characters.
HTTP_LINK = (
    r"^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+"
    r"([/?#][^\s\x00-\x1f\x7f]*)?\s*$"
)
CURRENCIES = sorted(currency.alpha_3 for currency in pycountry.currencies)


def states(**schema: Any) -> dict[str, Any]:
    """A service's rule as schema keywords, for `json_schema_extra` (the service enforces it)."""
    return schema


# Exact decimals as strings (JSON numbers are binary floats in most clients). The limits are
# the impact service's (read_amount), which refuses a value outside them with its own message,
# the same the form and `flask import` give; the pattern here only documents them.
Amount = Annotated[
    str,
    Field(
        max_length=100,
        description=(
            f'An exact decimal as a string, e.g. "400000" or "12.50": up to '
            f"{MAX_INTEGER_DIGITS} digits before the point and {MAX_FRACTION_DIGITS} after."
        ),
        examples=["400000.00"],
        json_schema_extra={
            "pattern": rf"^[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?$"
        },
    ),
]
Instant = Annotated[
    datetime,
    Field(
        description=(
            "ISO 8601. With `Z` or an offset it is that instant; without one it is read in "
            "the configured zone (POSTMORTEMS_TIMEZONE). From 1970-01-02 to 2100-12-30."
        ),
        examples=["2020-08-14T09:30:00Z"],
        json_schema_extra=states(pattern=IN_RANGE),
    ),
]


def text(limit: int, description: str = "", **schema: Any) -> Any:
    return Field(
        default="",
        max_length=limit,
        description=description or None,
        json_schema_extra=schema or None,
    )


def filled(limit: int, description: str = "") -> Any:
    """A text that must not be blank (the service says so too)."""
    return Field(
        max_length=limit,
        description=description or None,
        json_schema_extra=states(pattern=NOT_BLANK),
    )


class Input(BaseModel):
    """Request bodies: unknown fields refused, no type coercion. Patterns are Python's, as the
    document's readers (Schemathesis, jsonschema) read them."""

    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Requests.


class TimelineEventIn(Input):
    at: Instant
    text_md: str = Field(description=MARKDOWN, json_schema_extra=states(pattern=NOT_BLANK))


class FactorIn(Input):
    category: CauseCategory
    factor: str = Field(max_length=120, description="A contributing factor's name (taxonomy).")
    note: str = Field(default="", description=MARKDOWN)
    is_primary: bool = False


def _impact_rules() -> dict[str, Any]:
    """What each kind of impact needs (the impact rules of incidents/parts.py): a level for the
    qualitative kinds and nothing else; a likely value for the others, with a currency for
    money and a unit for the rest."""
    none = {"type": "null"}
    empty = {"anyOf": [none, {"type": "string", "maxLength": 0}]}
    blank = {"anyOf": [none, {"type": "string", "pattern": BLANK}]}

    def kinds(test: Any) -> dict[str, Any]:
        return {"properties": {"kind": {"enum": [k.name for k in ImpactKind if test(k)]}}}

    return {
        "allOf": [
            {
                "if": kinds(lambda k: k.is_qualitative),
                "then": {
                    "required": ["level"],
                    "properties": {
                        "level": {"not": none},
                        **{name: none for name in ("low", "likely", "high", "currency")},
                        "unit": empty,
                    },
                },
                "else": {
                    "required": ["likely"],
                    "properties": {"likely": {"not": none}, "level": none},
                },
            },
            {
                "if": kinds(lambda k: k.is_money),
                "then": {
                    "required": ["currency"],
                    "properties": {"currency": {"not": none}, "unit": blank},
                },
            },
            {
                "if": kinds(lambda k: not k.is_money and not k.is_qualitative),
                "then": {
                    "required": ["unit"],
                    "properties": {"currency": none, "unit": {"pattern": NOT_BLANK}},
                },
            },
        ]
    }


class ImpactIn(Input):
    """One dimension of harm. Not in the schema: low ≤ likely ≤ high."""

    model_config = ConfigDict(json_schema_extra=_impact_rules())

    kind: ImpactKind
    low: Amount | None = None
    likely: Amount | None = None
    high: Amount | None = None
    currency: (
        Annotated[str, Field(pattern=r"^[A-Z]{3}$", json_schema_extra=states(enum=CURRENCIES))]
        | None
    ) = Field(default=None, description="ISO 4217, money kinds only.")
    unit: str | None = Field(default=None, max_length=40, description="Any other quantity.")
    level: ImpactLevel | None = Field(default=None, description="The qualitative kinds only.")
    method_note: str = text(LONG_TEXT, "How it was estimated.")
    estimated_by: str = text(NAME_TEXT)


class LessonIn(Input):
    group: LessonGroup
    text_md: str = Field(description=MARKDOWN, json_schema_extra=states(pattern=NOT_BLANK))


class ActionItemIn(Input):
    """A follow-up. Not in the schema: `due_on` not before the incident started, and
    `completed_on` and `decided_on` from its start to today (the team's zone); `owner_email`
    an active account's; at most one new guard check name."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "WONT_DO"}}, "required": ["status"]},
                    "then": {
                        "required": ["wont_do_reason"],
                        "properties": {"wont_do_reason": {"pattern": NOT_BLANK}},
                    },
                },
                {
                    "if": {"properties": {"status": {"const": "DONE"}}, "required": ["status"]},
                    "else": {"properties": {"completed_on": {"type": "null"}}},
                },
            ]
        }
    )

    title: str = filled(200)
    group: LessonGroup
    type: ActionType
    details_md: str = Field(default="", description=MARKDOWN)
    owner: str = text(120, "Someone without an account.")
    owner_email: str | None = Field(
        default=None, max_length=254, description="An active account's email."
    )
    due_on: date | None = None
    status: ActionStatus = ActionStatus.OPEN
    wont_do_reason: str = text(LONG_TEXT)
    completed_on: date | None = Field(
        default=None, description="A done item's day; today when left out."
    )
    decided_on: date | None = Field(
        default=None, description="The day it became won't do; today when left out."
    )
    tracker_url: str = text(
        500, "An http:// or https:// link.", pattern=r"^$|^[Hh][Tt][Tt][Pp][Ss]?://"
    )
    guards: list[Annotated[str, Field(max_length=200)]] = Field(
        default=[],
        max_length=20,
        description=(
            "Names of the guard checks it creates or relies on. A name no guard check has "
            "yet creates one (an automated test), at most one per action item."
        ),
    )


class PostmortemIn(Input):
    """A postmortem to file as a draft, with all its parts, stored together or not at all."""

    title: str = filled(200)
    summary: str = text(300)
    severity: Severity = Severity.SEV3
    team: str | None = Field(default=None, max_length=120, description="A team's name.")
    affected_system: str = text(200)
    environment: str = text(60)
    started_at: Instant
    started_is_estimated: bool = False
    detected_at: Instant | None = None
    detected_is_estimated: bool = False
    mitigated_at: Instant | None = None
    mitigated_is_estimated: bool = False
    resolved_at: Instant | None = None
    resolved_is_estimated: bool = False
    what_happened_md: str = Field(default="", description=MARKDOWN)
    analysis_md: str = Field(default="", description=MARKDOWN)
    detection_md: str = Field(default="", description=MARKDOWN)
    response_md: str = Field(default="", description=MARKDOWN)
    went_well_md: str = Field(default="", description=MARKDOWN)
    got_lucky_md: str = Field(default="", description=MARKDOWN)
    tags: list[Annotated[str, Field(max_length=60)]] = Field(default=[], max_length=50)
    is_near_miss: bool = False
    exclude_from_metrics: bool = False
    is_restricted: bool = Field(
        default=False, description="Only the people named on it, its team and admins see it."
    )
    recurrence_of: str | None = Field(
        default=None, max_length=20, description="The key of the postmortem this one repeats."
    )
    timeline: list[TimelineEventIn] = Field(default=[], max_length=500)
    factors: list[FactorIn] = Field(default=[], max_length=100)
    impacts: list[ImpactIn] = Field(default=[], max_length=100)
    lessons: list[LessonIn] = Field(default=[], max_length=200)
    action_items: list[ActionItemIn] = Field(default=[], max_length=200)


class PostmortemPatch(PostmortemIn):
    """Fields to change (the others stay as they are) and parts to add, based on `version`."""

    title: str = Field(default="", max_length=200, json_schema_extra=states(pattern=NOT_BLANK))
    started_at: Instant | None = Field(  # type: ignore[assignment]  # left out: unchanged
        default=None, description="Null only for another organisation's postmortem."
    )
    version: Id | None = Field(
        default=None,
        description=(
            "The version you read; required unless you send it as If-Match. 409 when it has "
            "changed."
        ),
    )


class StepIn(Input):
    comment: str = text(LONG_TEXT, "What the reviewer says.")


class SendBackIn(Input):
    comment: str = filled(LONG_TEXT, "What needs to change.")


class GuardRunIn(Input):
    """One run of a guard check, as a CI job reports it."""

    status: Literal["pass", "fail"]
    ran_at: datetime | None = Field(
        default=None,
        description=(
            "When it ran, with `Z` or an offset; left out: now. From 1970 on, not in the future "
            "(more than 5 minutes from now)."
        ),
        examples=["2026-11-20T10:00:00Z"],
        json_schema_extra=states(pattern=IN_RANGE + r".*([Zz]|[+-][0-9]{2}:[0-9]{2})$"),
    )
    url: str | None = Field(
        default=None,
        max_length=2000,
        description="A link to the run: http:// or https://, no spaces.",
        json_schema_extra=states(pattern=HTTP_LINK),
    )
    details: str = text(2000, "A short note: what it checked, why it failed.")


class SearchQuery(Input):
    """Words to search for, as in the search box; a result kind narrows it."""

    model_config = ConfigDict(extra="forbid", strict=False)

    q: str = Field(max_length=1000, description="Words; Russian and English stems match.")
    kind: Annotated[str, Field(pattern="^(" + "|".join(SEARCH_KINDS) + ")$")] | None = None
    page: int = Field(default=1, ge=1, le=1_000_000)


class PostmortemQuery(Input):
    """The list's filters and page, as on the postmortems page."""

    model_config = ConfigDict(extra="forbid", strict=False)

    status: IncidentStatus | None = None
    severity: Severity | None = None
    category: CauseCategory | None = None
    factor: Id | None = Field(default=None, description="A contributing factor's id.")
    team: Id | None = Field(default=None, description="A team's id.")
    stage: Id | None = Field(default=None, description="A growth stage's id.")
    year: int | None = Field(default=None, ge=1970, le=2100)
    tag: str | None = Field(default=None, max_length=60)
    page: int = Field(default=1, ge=1, le=1_000_000)


# The days a report can cover (reports/views.py): every zone's midnights inside the stored range.
Day = Annotated[
    date,
    Field(
        ge=date(1970, 1, 2),
        le=date(2100, 12, 30),
        description="A day, 1970-01-02 to 2100-12-30.",
        json_schema_extra=states(pattern=DAY_IN_RANGE),
    ),
]


class ReportQuery(Input):
    """The filters of the report pages (each left out: not narrowed)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    team: Id | None = Field(default=None, description="A team's id.")
    severity: Severity | None = None
    status: IncidentStatus | None = None
    near_misses: Literal["0", "1"] = Field(
        default="1", description="1 (default) counts near-misses apart; 0 leaves them out."
    )


class TrendQuery(ReportQuery):
    from_: Day | None = Field(
        default=None, alias="from", description="The first day; left out: 1 January two years ago."
    )
    to: Day | None = Field(
        default=None, description="The last day, not before `from` (400); left out: today."
    )


class QuarterlyQuery(ReportQuery):
    page: Id = Field(default=1, description="The page of the quarter's postmortems, 100 a page.")


# Answers.


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
