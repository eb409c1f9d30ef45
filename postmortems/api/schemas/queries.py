"""The smaller requests: review steps, guard runs, and the query strings of lists, search
and reports."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from models import CauseCategory, IncidentStatus, Severity
from postmortems.api.schemas.common import (
    DAY_IN_RANGE,
    HTTP_LINK,
    IN_RANGE,
    Id,
    Input,
    filled,
    states,
    text,
)
from postmortems.limits import LONG_TEXT
from postmortems.search.service import KINDS as SEARCH_KINDS


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
