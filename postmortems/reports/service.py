"""Trend and quarterly report figures: each computed once, here, in SQL over date ranges.

The counting rule (README, "Reports"): every incident not flagged `exclude_from_metrics`
and not an external reference (another organisation's, imported),
whatever its review status, counts; near-misses are counted apart. Figures count every incident
whoever asks (a draft or a restricted postmortem is still an incident); only lists of
postmortems are cut to what the viewer may see. Days and quarters are in the team's zone.

Every function returns small frozen dataclasses of plain values that the HTML, JSON, Markdown
and PDF renderers share; nothing loads incidents as rows into Python.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement as SQLColumn

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    HeadcountSnapshot,
    ImpactEstimate,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Severity,
    User,
)
from models.incident import action_item_guard
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.reports.periods import (
    Quarter,
    ReportError,
    Step,
    person_quarters,
    quarters_between,
)
from postmortems.reports.stats import MEDIAN, P90, interpolation_rank, poisson_interval, ratio
from postmortems.teams.service import StageBand, growth_timeline
from postmortems.timezones import local_date, local_zone, start_of_local_day

TOP_FACTORS = 5
RATE_PEOPLE = 10  # rates are incidents per 10 people per quarter
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
class ImpactTotal:
    """Sums of the low / likely / high values of one kind in one currency or unit; `n` is the
    number of estimates, `n_low` … how many gave that bound (a missing bound adds nothing)."""

    kind: ImpactKind
    unit: str  # ISO currency for money, the unit otherwise
    n: int
    low: Decimal
    likely: Decimal
    high: Decimal
    n_low: int
    n_likely: int
    n_high: int


@dataclass(frozen=True)
class LevelCount:
    kind: ImpactKind
    level: str
    n: int


@dataclass(frozen=True)
class ActionFigures:
    total: int
    done: int
    wont_do: int
    overdue: int  # neither done nor won't do, due before the as-of day
    as_of: date
    days_to_done: DurationStats  # in days, from the incident's start (local day) to done
    preventive: int
    preventive_guarded: int

    @property
    def share_done(self) -> Fraction | None:
        return ratio(self.done, self.total)

    @property
    def share_overdue(self) -> Fraction | None:
        return ratio(self.overdue, self.total)

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

    def share(self, category: CauseCategory) -> Fraction | None:
        return ratio(self.by_category[category], self.incidents)


@dataclass(frozen=True)
class Rate:
    person_quarters: Fraction
    per_10_people: Fraction | None  # incidents per 10 people per quarter
    interval: tuple[Fraction, Fraction] | None  # exact 90 % Poisson interval of the same


@dataclass(frozen=True)
class QuarterRow:
    quarter: Quarter
    incidents: int
    near_misses: int
    by_category: dict[CauseCategory, int]
    stage: str | None  # the stage the company was in on the quarter's first day


@dataclass(frozen=True)
class StageRow:
    stage: StageBand
    periods: tuple[tuple[date, date], ...]  # (first day, last day) within the report's range
    figures: GroupFigures
    rate: Rate


@dataclass(frozen=True)
class TrendReport:
    filters: ReportFilters
    zone: str
    quarters: tuple[QuarterRow, ...]
    stages: tuple[StageRow, ...]
    stage_boundaries: tuple[date, ...]  # days on which the company entered another stage
    overall: GroupFigures
    overall_rate: Rate
    computed_at: datetime


@dataclass(frozen=True)
class ListedIncident:
    """A postmortem as the quarterly review lists it (only those the viewer may see)."""

    id: int
    key: str
    title: str
    severity: Severity
    status: IncidentStatus
    started_on: date
    is_near_miss: bool
    categories: tuple[CauseCategory, ...]
    impacts: tuple[str, ...]
    recurrence_of: str | None


@dataclass(frozen=True)
class QuarterlyReport:
    quarter: Quarter
    filters: ReportFilters
    zone: str
    figures: GroupFigures
    previous: GroupFigures
    year_before: GroupFigures
    actions_opened: int  # action items on the quarter's incidents
    actions_closed: int  # completed in the quarter (any incident counted by the rule)
    actions_overdue_at_end: int
    guards_added: tuple[str, ...]
    incidents: tuple[ListedIncident, ...]  # what the viewer may see, counted incidents first
    hidden: int  # counted incidents or near-misses of the quarter the viewer may not see
    computed_at: datetime


# The counting rule, as SQL.


def counted(filters: ReportFilters, *, dated: bool = True) -> list[ColumnElement[bool]]:
    """Incidents counted by the rule within the filters (near-misses included: split them
    with `Incident.is_near_miss`); `dated` False drops the date range."""
    conditions: list[ColumnElement[bool]] = [
        Incident.exclude_from_metrics.is_(False),
        Incident.source_collection.is_(None),  # other organisations' incidents never count
    ]
    if dated:
        conditions += [
            Incident.started_at >= start_of_local_day(filters.start),
            Incident.started_at < start_of_local_day(filters.end_exclusive),
        ]
    if filters.team_id is not None:
        conditions.append(Incident.team_id == filters.team_id)
    if filters.severity is not None:
        conditions.append(Incident.severity == filters.severity)
    if filters.status is not None:
        conditions.append(Incident.status == filters.status)
    return conditions


Ranges = Sequence[tuple[str, date, date]]  # (bucket, first day, exclusive end day)


def _in_range(start: date, end: date) -> ColumnElement[bool]:
    return and_(
        Incident.started_at >= start_of_local_day(start),
        Incident.started_at < start_of_local_day(end),
    )


def _bucket(ranges: Ranges) -> tuple[SQLColumn[Any], ColumnElement[bool]]:
    """The bucket name of an incident's start as one CASE over the ranges (a parameter per
    range, never per incident), and the condition that it lies in one of them."""
    if not ranges:
        return literal(None), false()
    whens = [(_in_range(start, end), literal(name)) for name, start, end in ranges]
    return case(*whens, else_=None), or_(*(w for w, _ in whens))


# Figures per group.


def group_figures(
    filters: ReportFilters, ranges: Ranges, as_of: date | Mapping[str, date]
) -> dict[str, GroupFigures]:
    """Every figure for each named range of days, in a fixed number of grouped queries.
    Action items count as overdue when due before `as_of` (one day, or one per range)."""
    as_of_by = {name: as_of if isinstance(as_of, date) else as_of[name] for name, _, _ in ranges}
    bucket, in_any = _bucket(ranges)
    where = [*counted(filters), in_any]
    names = [name for name, _, _ in ranges]
    incidents, near = _counts(bucket, where)
    categories = _categories(bucket, where)
    factors = _factors(bucket, where)
    durations = {kind: _durations(bucket, where, kind) for kind in DURATIONS}
    impacts, levels = _impacts(bucket, where)
    actions = _actions(bucket, where, as_of_by, filters.start, filters.end_exclusive)
    recurrences = _recurrences(bucket, where)
    minimum = current_app.config["REPORT_MIN_SAMPLE_SIZE"]
    return {
        name: GroupFigures(
            incidents=incidents.get(name, 0),
            near_misses=near.get(name, 0),
            by_category={c: categories.get((name, c), 0) for c in CauseCategory},
            top_factors=tuple(factors.get(name, ())),
            durations={k: durations[k].get(name, DurationStats(0, None, None)) for k in DURATIONS},
            impacts=tuple(impacts.get(name, ())),
            levels=tuple(levels.get(name, ())),
            actions=actions.get(name, _no_actions(as_of_by[name])),
            recurrences=recurrences.get(name, 0),
            small=incidents.get(name, 0) < minimum,
        )
        for name in names
    }


def _counts(bucket: SQLColumn[Any], where: list[ColumnElement[bool]]) -> tuple[dict[str, int], ...]:
    rows = session.execute(
        select(bucket, Incident.is_near_miss, func.count())
        .where(*where)
        .group_by(bucket, Incident.is_near_miss)
    )
    incidents: dict[str, int] = {}
    near: dict[str, int] = {}
    for name, is_near_miss, n in rows:
        (near if is_near_miss else incidents)[name] = n
    return incidents, near


def _categories(
    bucket: SQLColumn[Any], where: list[ColumnElement[bool]]
) -> dict[tuple[str, CauseCategory], int]:
    """Incidents per category: an incident counts once in each category it has a factor in."""
    stmt = (
        select(bucket, ContributingFactor.category, func.count(Incident.id.distinct()))
        .select_from(Incident)
        .join(IncidentFactor, IncidentFactor.incident_id == Incident.id)
        .join(ContributingFactor, ContributingFactor.id == IncidentFactor.factor_id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(bucket, ContributingFactor.category)
    )
    return {(name, category): n for name, category, n in session.execute(stmt)}


def _factors(
    bucket: SQLColumn[Any], where: list[ColumnElement[bool]]
) -> dict[str, list[FactorCount]]:
    stmt = (
        select(
            bucket,
            ContributingFactor.id,
            ContributingFactor.name,
            ContributingFactor.category,
            func.count(Incident.id.distinct()),
        )
        .select_from(Incident)
        .join(IncidentFactor, IncidentFactor.incident_id == Incident.id)
        .join(ContributingFactor, ContributingFactor.id == IncidentFactor.factor_id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(
            bucket, ContributingFactor.id, ContributingFactor.name, ContributingFactor.category
        )
    )
    by_bucket: dict[str, list[FactorCount]] = defaultdict(list)
    for name, factor_id, factor_name, category, n in session.execute(stmt):
        by_bucket[name].append(FactorCount(factor_id, factor_name, category, n))
    return {
        name: sorted(rows, key=lambda f: (-f.incidents, f.name, f.factor_id))[:TOP_FACTORS]
        for name, rows in by_bucket.items()
    }


def _duration_ends(kind: str) -> tuple[Any, Any]:
    if kind == "time_to_detect":
        return Incident.started_at, Incident.detected_at
    if kind == "time_to_mitigate":
        return Incident.detected_at, Incident.mitigated_at
    return Incident.started_at, Incident.resolved_at


def _difference(earlier: Any, later: Any) -> SQLColumn[Any]:
    """later − earlier as something the database can order by."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier  # type: ignore[no-any-return]


def seconds(delta: timedelta) -> Decimal:
    """A duration in seconds, exactly (microseconds included)."""
    whole = delta.days * 86400 + delta.seconds
    return Decimal(whole) + Decimal(delta.microseconds) / Decimal(1_000_000)


def _durations(
    bucket: SQLColumn[Any], where: list[ColumnElement[bool]], kind: str
) -> dict[str, DurationStats]:
    """Median and p90 of one duration per bucket: the database ranks each bucket's durations
    once (a window function) and returns only the rows on either side of the two percentiles;
    the interpolation happens here, on exact timedeltas."""
    earlier, later = _duration_ends(kind)
    ranked = (
        select(
            bucket.label("bucket"),
            earlier.label("earlier"),
            later.label("later"),
            func.row_number()
            .over(partition_by=bucket, order_by=(_difference(earlier, later), Incident.id))
            .label("rank"),
            func.count().over(partition_by=bucket).label("n"),
        )
        .where(*where, Incident.is_near_miss.is_(False), earlier.is_not(None), later.is_not(None))
        .subquery()
    )
    zero_based = ranked.c.rank - 1
    wanted: list[ColumnElement[bool]] = []
    for p in (MEDIAN, P90):
        tenths = int(p * 10)
        low = (ranked.c.n - 1) * tenths // 10
        wanted += [zero_based == low, zero_based == low + 1]
    rows = session.execute(
        select(ranked.c.bucket, ranked.c.earlier, ranked.c.later, zero_based, ranked.c.n).where(
            or_(*wanted)
        )
    )
    values: dict[str, dict[int, Decimal]] = defaultdict(dict)
    sizes: dict[str, int] = {}
    for name, start, end, rank, n in rows:
        values[name][rank] = seconds(end - start)
        sizes[name] = n
    return {
        name: DurationStats(
            n, _interpolated(values[name], n, MEDIAN), _interpolated(values[name], n, P90)
        )
        for name, n in sizes.items()
    }


def _interpolated(values: dict[int, Decimal], n: int, p: Decimal) -> Decimal:
    low, fraction = interpolation_rank(n, p)
    if fraction == 0:
        return values[low]
    return values[low] + fraction * (values[low + 1] - values[low])


def _impacts(
    bucket: SQLColumn[Any], where: list[ColumnElement[bool]]
) -> tuple[dict[str, list[ImpactTotal]], dict[str, list[LevelCount]]]:
    """Impact sums per kind and currency or unit, exact: the database groups equal values and
    counts them (SQLite keeps decimals as text and would sum them as floats); the sums of the
    distinct values are taken here in Decimal. Near-misses' impacts are left out."""
    unit = func.coalesce(ImpactEstimate.currency, ImpactEstimate.unit)
    stmt = (
        select(
            bucket,
            ImpactEstimate.kind,
            unit,
            ImpactEstimate.level,
            ImpactEstimate.low,
            ImpactEstimate.likely,
            ImpactEstimate.high,
            func.count(),
        )
        .select_from(Incident)
        .join(ImpactEstimate, ImpactEstimate.incident_id == Incident.id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(
            bucket,
            ImpactEstimate.kind,
            unit,
            ImpactEstimate.level,
            ImpactEstimate.low,
            ImpactEstimate.likely,
            ImpactEstimate.high,
        )
    )
    sums: dict[tuple[str, ImpactKind, str], list[Any]] = {}
    level_counts: dict[tuple[str, ImpactKind, str], int] = defaultdict(int)
    for name, kind, unit_label, level, low, likely, high, n in session.execute(stmt):
        if kind.is_qualitative:
            if level is not None:
                level_counts[(name, kind, level.name)] += n
            continue
        entry = sums.setdefault(
            (name, kind, unit_label or ""), [0, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0]
        )
        entry[0] += n
        for i, value in enumerate((low, likely, high)):
            if value is not None:
                entry[1 + i] += Decimal(value) * n
                entry[4 + i] += n
    impacts: dict[str, list[ImpactTotal]] = defaultdict(list)
    for (name, kind, unit_label), e in sorted(
        sums.items(), key=lambda item: (list(ImpactKind).index(item[0][1]), item[0][2])
    ):
        impacts[name].append(ImpactTotal(kind, unit_label, e[0], e[1], e[2], e[3], *e[4:]))
    levels: dict[str, list[LevelCount]] = defaultdict(list)
    for (name, kind, level), n in sorted(
        level_counts.items(), key=lambda item: (list(ImpactKind).index(item[0][1]), item[0][2])
    ):
        levels[name].append(LevelCount(kind, level, n))
    return impacts, levels


def _no_actions(as_of: date) -> ActionFigures:
    return ActionFigures(0, 0, 0, 0, as_of, DurationStats(0, None, None), 0, 0)


def _actions(
    bucket: SQLColumn[Any],
    where: list[ColumnElement[bool]],
    as_of: Mapping[str, date],
    start: date,
    end: date,
) -> dict[str, ActionFigures]:
    """Action items of the counted incidents (near-misses' too: their follow-ups count);
    overdue when open and due before their bucket's `as_of` day."""
    guarded = (
        select(action_item_guard.c.action_item_id)
        .where(action_item_guard.c.action_item_id == ActionItem.id)
        .exists()
    )
    open_ = ActionItem.status.not_in(CLOSED)

    def counting(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = (
        select(
            bucket,
            func.count(),
            counting(ActionItem.status == ActionStatus.DONE),
            counting(ActionItem.status == ActionStatus.WONT_DO),
            # Open on the as-of day: not closed yet, or closed from that day on (a quarter's
            # figures are as of its end, whatever happened to the item since).
            counting(
                and_(
                    or_(open_, ActionItem.completed_on >= _as_of_day(bucket, as_of)),
                    ActionItem.due_on < _as_of_day(bucket, as_of),
                )
            ),
            counting(ActionItem.type == ActionType.PREVENTIVE),
            counting(and_(ActionItem.type == ActionType.PREVENTIVE, guarded)),
        )
        .select_from(Incident)
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where)
        .group_by(bucket)
    )
    days = _days_to_done(bucket, where, start, end)
    return {
        name: ActionFigures(
            total=total,
            done=int(done),
            wont_do=int(wont_do),
            overdue=int(overdue),
            as_of=as_of[name],
            days_to_done=days.get(name, DurationStats(0, None, None)),
            preventive=int(preventive),
            preventive_guarded=int(preventive_guarded),
        )
        for name, total, done, wont_do, overdue, preventive, preventive_guarded in session.execute(
            stmt
        )
    }


def _as_of_day(bucket: SQLColumn[Any], as_of: Mapping[str, date]) -> Any:
    """The bucket's as-of day in SQL: one parameter when all buckets share it."""
    days = set(as_of.values())
    if len(days) <= 1:  # none: no bucket, no row
        return literal(days.pop() if days else None, Date)
    return case({name: literal(day, Date) for name, day in as_of.items()}, value=bucket)


def _days_to_done(
    bucket: SQLColumn[Any], where: list[ColumnElement[bool]], start: date, end: date
) -> dict[str, DurationStats]:
    """Median and p90 of the days from the incident's start (its local day) to done, over
    incidents that started on local days `start` to `end` (exclusive). The database computes
    each done item's number of days and counts the items per number: a few hundred rows."""
    days = _days_between(_local_day_offsets(start, end), ActionItem.completed_on)
    stmt = (
        select(bucket, days, func.count())
        .select_from(Incident)
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where, ActionItem.status == ActionStatus.DONE, ActionItem.completed_on.is_not(None))
        .group_by(bucket, days)
    )
    by_bucket: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for name, n_days, n in session.execute(stmt):
        by_bucket[name].append((int(n_days), n))
    result = {}
    for name, counts in by_bucket.items():
        counts.sort()
        total = sum(n for _, n in counts)
        ranks = {
            rank
            for p in (MEDIAN, P90)
            for rank in (interpolation_rank(total, p)[0], interpolation_rank(total, p)[0] + 1)
            if rank < total
        }
        values: dict[int, Decimal] = {}
        below = 0
        for n_days, n in counts:
            values.update({r: Decimal(n_days) for r in ranks if below <= r < below + n})
            below += n
        result[name] = DurationStats(
            total, _interpolated(values, total, MEDIAN), _interpolated(values, total, P90)
        )
    return result


def _local_day_offsets(start: date, end: date) -> list[tuple[datetime | None, int]]:
    """The team's zone's UTC offsets, in seconds, over the local days `start` to `end`
    (exclusive), as (the UTC instant from which it holds, offset): the first from the start of
    time. Daylight saving time gives two changes a year; found to the second."""
    zone = local_zone()

    def offset(instant: datetime) -> int:
        delta = instant.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    low, high = start_of_local_day(start), start_of_local_day(end)
    offsets: list[tuple[datetime | None, int]] = [(None, offset(low))]
    day = timedelta(days=1)
    at = low
    while at < high:
        following = min(at + day, high)
        if offset(following) != offsets[-1][1]:
            before, after = at, following  # the change lies in (before, after]
            while after - before > timedelta(seconds=1):
                middle = before + (after - before) / 2
                if offset(middle) == offsets[-1][1]:
                    before = middle
                else:
                    after = middle
            offsets.append((after.replace(microsecond=0), offset(after.replace(microsecond=0))))
        at = following
    return offsets


def _days_between(offsets: list[tuple[datetime | None, int]], later: Any) -> SQLColumn[Any]:
    """Days from the incident's local start day to the date `later`, in SQL: the start moved by
    the zone's offset in force at that instant, then its date."""

    def days(seconds_east: int) -> SQLColumn[Any]:
        if session.get_bind().dialect.name == "sqlite":
            local_day = func.date(Incident.started_at, f"{seconds_east:+d} seconds")
            return cast(func.julianday(later) - func.julianday(local_day), Integer)
        shifted = Incident.started_at + func.make_interval(0, 0, 0, 0, 0, 0, seconds_east)
        return later - cast(shifted, Date)  # type: ignore[no-any-return]

    if len(offsets) == 1:
        return days(offsets[0][1])
    whens = [
        (Incident.started_at < at, days(seconds))
        for (at, _), (_, seconds) in zip(offsets[1:], offsets, strict=False)
    ]
    return case(*whens, else_=days(offsets[-1][1]))


def _recurrences(bucket: SQLColumn[Any], where: list[ColumnElement[bool]]) -> dict[str, int]:
    stmt = (
        select(bucket, func.count())
        .where(*where, Incident.is_near_miss.is_(False), Incident.recurrence_of_id.is_not(None))
        .group_by(bucket)
    )
    return {name: n for name, n in session.execute(stmt)}


# Headcount and rates.


def headcount_steps(team_id: int | None) -> list[Step]:
    """The headcount step function: the company's (every team's latest count summed), or one
    team's. A count of 0 ends a team."""
    if team_id is None:
        return [Step(s.start, s.end, s.total) for s in growth_timeline().spans]
    rows = session.execute(
        select(HeadcountSnapshot.on_date, HeadcountSnapshot.headcount)
        .where(HeadcountSnapshot.team_id == team_id)
        .order_by(HeadcountSnapshot.on_date)
    ).all()
    return [
        Step(on_date, rows[i + 1][0] if i + 1 < len(rows) else None, headcount)
        for i, (on_date, headcount) in enumerate(rows)
    ]


def rate(incidents: int, steps: list[Step], spans: Iterable[tuple[date, date]]) -> Rate:
    """Incidents per 10 people per quarter over the spans (first day, exclusive end)."""
    pq = sum((person_quarters(steps, start, end) for start, end in spans), Fraction(0))
    if pq == 0:
        return Rate(pq, None, None)
    lower, upper = poisson_interval(incidents)
    scale = RATE_PEOPLE / pq
    return Rate(
        pq,
        incidents * scale,
        (Fraction(lower) * scale, Fraction(upper) * scale),
    )


# The trend report.


def trend_report(filters: ReportFilters, *, as_of: date, now: datetime) -> TrendReport:
    """Every figure of the trend report for the filters (the same for every viewer)."""
    start, end = filters.start, filters.end_exclusive
    quarters = quarters_between(filters.start, filters.end)
    quarter_ranges = [
        (q.label, max(q.first_day, start), min(q.next_first_day, end)) for q in quarters
    ]
    timeline = growth_timeline()
    stage_spans: dict[int, list[tuple[date, date]]] = defaultdict(list)
    boundaries = []
    for period in timeline.periods:
        lo = max(period.start, start)
        hi = end if period.end is None else min(period.end, end)
        if start < period.start < end:
            boundaries.append(period.start)
        if lo < hi:
            stage_spans[period.stage.id].append((lo, hi))
    # A stage may be entered more than once: its periods are one group.
    stage_ranges = [
        (str(stage_id), lo, hi) for stage_id, spans in stage_spans.items() for lo, hi in spans
    ]
    by_quarter = _quarter_counts(filters, quarter_ranges)
    by_stage = group_figures(filters, stage_ranges, as_of)
    overall = group_figures(filters, [("all", start, end)], as_of)["all"]
    steps = headcount_steps(filters.team_id)
    quarter_rows = tuple(
        QuarterRow(
            quarter=q,
            incidents=by_quarter[q.label][0],
            near_misses=by_quarter[q.label][1],
            by_category=by_quarter[q.label][2],
            stage=_stage_name(timeline, max(q.first_day, start)),
        )
        for q in quarters
    )
    stage_rows = tuple(
        StageRow(
            stage=stage,
            periods=tuple((lo, hi - timedelta(days=1)) for lo, hi in stage_spans[stage.id]),
            figures=by_stage[str(stage.id)],
            rate=rate(by_stage[str(stage.id)].incidents, steps, stage_spans[stage.id]),
        )
        for stage in timeline.stages
        if stage.id in stage_spans
    )
    return TrendReport(
        filters=filters,
        zone=current_app.config["TIMEZONE"],
        quarters=quarter_rows,
        stages=stage_rows,
        stage_boundaries=tuple(boundaries),
        overall=overall,
        overall_rate=rate(overall.incidents, steps, [(start, end)]),
        computed_at=now,
    )


def _stage_name(timeline: Any, day: date) -> str | None:
    on_day = timeline.on(day)
    return None if on_day is None or on_day.stage is None else str(on_day.stage.name)


def _quarter_counts(
    filters: ReportFilters, ranges: Ranges
) -> dict[str, tuple[int, int, dict[CauseCategory, int]]]:
    bucket, in_any = _bucket(ranges)
    where = [*counted(filters), in_any]
    incidents, near = _counts(bucket, where)
    categories = _categories(bucket, where)
    return {
        name: (
            incidents.get(name, 0),
            near.get(name, 0),
            {c: categories.get((name, c), 0) for c in CauseCategory},
        )
        for name, _, _ in ranges
    }


# The quarterly review.


def quarter_filters(quarter: Quarter, **narrowing: Any) -> ReportFilters:
    return ReportFilters(quarter.first_day, quarter.last_day, **narrowing)


def quarterly_report(
    quarter: Quarter, viewer: User | None, *, now: datetime, **narrowing: Any
) -> QuarterlyReport:
    """The quarterly review: the quarter's figures against the previous quarter and the same
    quarter a year before, action items at the quarter's end, and the postmortems themselves
    (those the viewer may see, the others only counted; viewer None, the command line: all)."""
    filters = quarter_filters(quarter, **narrowing)
    # The three quarters' figures in one set of grouped queries, each quarter a bucket; each
    # quarter's action items count as overdue when due before its end.
    compared = {"this": quarter, "previous": quarter.previous, "year_before": quarter.year_before}
    figures = group_figures(
        ReportFilters(quarter.year_before.first_day, quarter.last_day, **narrowing),
        [(label, q.first_day, q.next_first_day) for label, q in compared.items()],
        {label: q.next_first_day for label, q in compared.items()},
    )
    where = counted(filters)
    start, end = start_of_local_day(quarter.first_day), start_of_local_day(quarter.next_first_day)
    opened = session.scalar(
        select(func.count()).select_from(Incident).join(ActionItem).where(*where)
    )
    closed = session.scalar(
        select(func.count())
        .select_from(Incident)
        .join(ActionItem)
        .where(
            *counted(filters, dated=False),
            ActionItem.status.in_(CLOSED),
            ActionItem.completed_on >= quarter.first_day,
            ActionItem.completed_on <= quarter.last_day,
        )
    )
    # Open at the quarter's end: not closed, or closed after it; and due before it ended.
    overdue = session.scalar(
        select(func.count())
        .select_from(Incident)
        .join(ActionItem)
        .where(
            *counted(filters, dated=False),
            Incident.started_at < end,
            ActionItem.due_on <= quarter.last_day,
            or_(
                ActionItem.status.not_in(CLOSED),
                ActionItem.completed_on > quarter.last_day,
            ),
        )
    )
    guards = tuple(
        session.scalars(
            select(GuardCheck.name)
            .where(GuardCheck.created_at >= start, GuardCheck.created_at < end)
            .order_by(GuardCheck.name)
        )
    )
    listed, hidden = _listed_incidents(where, viewer)
    return QuarterlyReport(
        quarter=quarter,
        filters=filters,
        zone=current_app.config["TIMEZONE"],
        figures=figures["this"],
        previous=figures["previous"],
        year_before=figures["year_before"],
        actions_opened=opened or 0,
        actions_closed=closed or 0,
        actions_overdue_at_end=overdue or 0,
        guards_added=guards,
        incidents=listed,
        hidden=hidden,
        computed_at=now,
    )


def _listed_incidents(
    where: list[ColumnElement[bool]], viewer: User | None
) -> tuple[tuple[ListedIncident, ...], int]:
    seen = true() if viewer is None else visible_incidents(viewer)
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    rows = session.execute(
        select(
            Incident.id,
            Incident.key,
            Incident.title,
            Incident.severity,
            Incident.status,
            Incident.started_at,
            Incident.is_near_miss,
            Incident.recurrence_of_id,
        )
        .where(*where, seen)
        .order_by(Incident.is_near_miss, Incident.started_at, Incident.id)
    ).all()
    categories: dict[int, set[CauseCategory]] = defaultdict(set)
    impacts: dict[int, list[str]] = defaultdict(list)
    keys: dict[int, str] = {}
    if rows:
        # The listed incidents' parts, joined on the same conditions (no parameter per incident).
        for incident_id, category in session.execute(
            select(IncidentFactor.incident_id, ContributingFactor.category)
            .join(ContributingFactor)
            .join(Incident, Incident.id == IncidentFactor.incident_id)
            .where(*where, seen)
        ):
            categories[incident_id].add(category)
        for incident_id, kind, level, low, likely, high, currency, unit in session.execute(
            select(
                ImpactEstimate.incident_id,
                ImpactEstimate.kind,
                ImpactEstimate.level,
                ImpactEstimate.low,
                ImpactEstimate.likely,
                ImpactEstimate.high,
                ImpactEstimate.currency,
                ImpactEstimate.unit,
            )
            .join(Incident, Incident.id == ImpactEstimate.incident_id)
            .where(*where, seen)
            .order_by(ImpactEstimate.id)
        ):
            impacts[incident_id].append(
                impact_text(kind, level, low, likely, high, currency or unit)
            )
        recurrence_ids = {row.recurrence_of_id for row in rows if row.recurrence_of_id}
        if recurrence_ids:
            keys = {
                incident_id: key
                for incident_id, key in session.execute(
                    select(Incident.id, Incident.key).where(Incident.id.in_(recurrence_ids), seen)
                )
            }
    order = list(CauseCategory)
    listed = tuple(
        ListedIncident(
            id=row.id,
            key=row.key,
            title=row.title,
            severity=row.severity,
            status=row.status,
            started_on=local_date(row.started_at),
            is_near_miss=row.is_near_miss,
            categories=tuple(sorted(categories[row.id], key=order.index)),
            impacts=tuple(impacts[row.id]),
            recurrence_of=keys.get(row.recurrence_of_id) if row.recurrence_of_id else None,
        )
        for row in rows
    )
    return listed, total - len(listed)


def describe_impact(estimate: ImpactEstimate) -> str:
    """One impact estimate as text: a low–likely–high range with its unit, or a level."""
    return impact_text(
        estimate.kind,
        estimate.level,
        estimate.low,
        estimate.likely,
        estimate.high,
        estimate.unit_label,
    )


def impact_text(
    kind: ImpactKind,
    level: ImpactLevel | None,
    low: Decimal | None,
    likely: Decimal | None,
    high: Decimal | None,
    unit_label: str | None,
) -> str:
    """An impact estimate's values as text (see `describe_impact`)."""
    if kind.is_qualitative:
        return f"{kind.label}: {level.label if level else '—'}"
    parts = ["?" if v is None else format(v.normalize(), "f") for v in (low, likely, high)]
    return f"{kind.label}: {parts[0]}–{parts[1]}–{parts[2]} {unit_label or ''}".strip()
