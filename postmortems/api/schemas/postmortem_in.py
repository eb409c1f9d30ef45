"""The request bodies that file and change a postmortem, with all its parts. The importer
(transfer/front_matter.py) reads a file's front matter with models derived from these."""

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from models import (
    ActionStatus,
    ActionType,
    CauseCategory,
    ImpactKind,
    ImpactLevel,
    LessonGroup,
    Severity,
)
from postmortems.api.schemas.common import (
    BLANK,
    CURRENCIES,
    MARKDOWN,
    NOT_BLANK,
    Amount,
    Id,
    Input,
    Instant,
    filled,
    states,
    text,
)
from postmortems.limits import LONG_TEXT, NAME_TEXT


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
