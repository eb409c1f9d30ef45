"""What a report's figures are: the filters, the figures of one group of incidents, and the
incidents they count: the counting rule (`incidents/counting.py`) within the filters.

Figures count every incident whoever asks (a draft or a restricted postmortem is still an
incident); only lists of postmortems are cut to what the viewer may see.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, case, func, null, true

from models import (
    ActionItem,
    ActionStatus,
    CauseCategory,
    ImpactKind,
    Incident,
    IncidentStatus,
    Severity,
)
from models.base import in_stored_range
from postmortems.incidents.counting import counts
from postmortems.reports.periods import ReportError
from postmortems.reports.stats import ratio
from postmortems.timezones import start_of_local_day

TOP_FACTORS = 5

DURATIONS = ("time_to_detect", "time_to_mitigate", "time_to_resolve")
CLOSED = (ActionStatus.DONE, ActionStatus.WONT_DO)


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: local days `start` to `end` (both included) and the narrowing
    filters. `near_misses` False leaves the near-miss figures out of what is shown."""

    start: date
    end: date
    team_id: int | None = None
    severity: Severity | None = None
    status: IncidentStatus | None = None
    near_misses: bool = True

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ReportError(fields={"to": ["Cannot be before the start."]})

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)


@dataclass(frozen=True)
class DurationStats:
    """Median and 90th percentile of one duration over the incidents that have it."""

    n: int
    median: Decimal | None  # seconds
    p90: Decimal | None


@dataclass(frozen=True)
class FactorCount:
    factor_id: int
    name: str
    category: CauseCategory
    incidents: int


@dataclass(frozen=True)
class TiedBeyond:
    """The factors left out of a top-N list that have as many incidents as its last one."""

    factors: int
    incidents: int


def tied_beyond(ranked: list[FactorCount], shown: int) -> TiedBeyond | None:
    """What ties at the cut of the first `shown` of `ranked` (most incidents first), or None
    when nothing left out has as many incidents as the last one shown."""
    if shown == 0 or len(ranked) <= shown:
        return None
    last = ranked[shown - 1].incidents
    tied = sum(1 for f in ranked[shown:] if f.incidents == last)
    return TiedBeyond(tied, last) if tied else None


@dataclass(frozen=True)
class ImpactTotal:
    """The estimates of one kind in one currency or unit, summed so that no total can read high
    below likely: the `ranges` estimates that gave low, likely and high are summed bound by
    bound (each has low <= likely <= high, so their sums keep that order); the `apart`
    estimates without a full range are kept apart, their likely values summed in
    `apart_likely` over the `apart_given` that gave one (a lone low or high adds nothing)."""

    kind: ImpactKind
    unit: str  # ISO currency for money, the unit otherwise
    ranges: int
    low: Decimal
    likely: Decimal
    high: Decimal
    apart: int
    apart_given: int
    apart_likely: Decimal

    @property
    def n(self) -> int:
        """Every estimate, in a full range or apart."""
        return self.ranges + self.apart


@dataclass(frozen=True)
class LevelCount:
    kind: ImpactKind
    level: str
    n: int


@dataclass(frozen=True)
class ActionFigures:
    """The action items of a group's incidents (near-misses' too when the filters count them),
    partitioned as they stood at the end of the day `as_of`: done (completed by then), won't do
    (decided by then), overdue (neither, and due before that day) and open, not yet due (the
    rest). The four add up to `total`."""

    total: int
    done: int
    wont_do: int
    overdue: int
    as_of: date
    days_to_done: DurationStats  # in days, from the incident's start (local day) to done
    preventive: int
    preventive_guarded: int

    @property
    def open_not_due(self) -> int:
        return self.total - self.done - self.wont_do - self.overdue

    @property
    def share_done(self) -> Fraction | None:
        return ratio(self.done, self.total)

    @property
    def share_wont_do(self) -> Fraction | None:
        return ratio(self.wont_do, self.total)

    @property
    def share_overdue(self) -> Fraction | None:
        return ratio(self.overdue, self.total)

    @property
    def share_open_not_due(self) -> Fraction | None:
        return ratio(self.open_not_due, self.total)

    @property
    def share_preventive_guarded(self) -> Fraction | None:
        return ratio(self.preventive_guarded, self.preventive)


@dataclass(frozen=True)
class GroupFigures:
    """Every figure of one group of incidents (a growth stage, a quarter, the whole range)."""

    incidents: int  # counted, near-misses apart
    near_misses: int
    by_category: dict[CauseCategory, int]
    top_factors: tuple[FactorCount, ...]
    durations: dict[str, DurationStats]
    impacts: tuple[ImpactTotal, ...]
    levels: tuple[LevelCount, ...]
    actions: ActionFigures
    recurrences: int
    small: bool  # fewer incidents than REPORT_MIN_SAMPLE_SIZE
    # Factors left out of `top_factors` with as many incidents as its last (None: no tie).
    top_factors_tied_beyond: TiedBeyond | None = None

    def share(self, category: CauseCategory) -> Fraction | None:
        return ratio(self.by_category[category], self.incidents)


# The counting rule within a report's filters.


def within(column: Any, start: date, end: date) -> list[ColumnElement[bool]]:
    """`column` from the local day `start` to `end` (exclusive). A bound beyond the stored
    range bounds nothing, and could not be bound as a parameter (the end of 2100Q4, or the
    start of 1970Q1 east of Greenwich)."""
    low, high = start_of_local_day(start), start_of_local_day(end)
    return [
        column >= low if in_stored_range(low) else true(),
        column < high if in_stored_range(high) else true(),
    ]


def counted(filters: ReportFilters, *, dated: bool = True) -> list[ColumnElement[bool]]:
    """Incidents counted by the rule within the filters (near-misses included: split them
    with `Incident.is_near_miss`); `dated` False drops the date range."""
    conditions: list[ColumnElement[bool]] = [counts()]
    if dated:
        conditions += within(Incident.started_at, filters.start, filters.end_exclusive)
    if filters.team_id is not None:
        conditions.append(Incident.team_id == filters.team_id)
    if filters.severity is not None:
        conditions.append(Incident.severity == filters.severity)
    if filters.status is not None:
        conditions.append(Incident.status == filters.status)
    return conditions


def closed_on(start_day: Any) -> ColumnElement[Any]:
    """The day an action item was closed, in SQL, the one rule every action-item figure uses:
    a done item on its completion day, a won't-do item on its decision day; NULL while open.
    A day not recorded (won't-do items decided before migration 0017 kept the day, or an
    item closed by an older import) falls back to the completion day, then to `start_day`,
    the incident's local start day: such an item counts as closed since its incident began."""
    return case(
        (
            ActionItem.status == ActionStatus.DONE,
            func.coalesce(ActionItem.completed_on, start_day),
        ),
        (
            ActionItem.status == ActionStatus.WONT_DO,
            func.coalesce(ActionItem.decided_on, ActionItem.completed_on, start_day),
        ),
        else_=null(),
    )
