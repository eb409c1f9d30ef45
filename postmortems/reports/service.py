"""Trend and quarterly reports, assembled from the figures of each group of incidents.

The figures themselves are defined in figures.py (the counting rule) and computed per month
(month_sql.py, merged in month_piece.py, kept until a change touches that month:
piece_store.py). Days and quarters are in the team's zone.
Every function returns small frozen dataclasses of plain values that the HTML, JSON, Markdown
and PDF renderers share; nothing loads incidents as rows into Python (the quarterly review
lists the postmortems of its quarter, a page at a time).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select, true

from models import (
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
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.guards.escapes import EscapeCount, escape_counts
from postmortems.guards.risk import GuardReportFigures, guard_report
from postmortems.numbers import estimate
from postmortems.reports.figures import (
    GroupFigures,
    ReportFilters,
    counted,
    within,
)
from postmortems.reports.month_ranges import Ranges, months_of
from postmortems.reports.periods import Quarter, Step, person_quarters, quarters_between
from postmortems.reports.piece_store import closed_and_overdue, group_figures, pieces_for
from postmortems.reports.stats import poisson_interval
from postmortems.teams.service import GrowthTimeline, StageBand, growth_timeline
from postmortems.timezones import local_date

RATE_PEOPLE = 10  # rates are incidents per 10 people per quarter


@dataclass(frozen=True)
class Rate:
    person_quarters: Fraction
    per_10_people: Fraction | None  # incidents per 10 people per quarter
    interval: tuple[Fraction, Fraction] | None  # exact 90 % Poisson interval of the same


@dataclass(frozen=True)
class StageSpan:
    """A growth stage the company was in during a span of days, and its first day in it
    within the span (the span's first day when it was already in it)."""

    name: str
    first_day: date


@dataclass(frozen=True)
class QuarterRow:
    quarter: Quarter
    incidents: int
    near_misses: int
    by_category: dict[CauseCategory, int]
    stage: str | None  # the stage the company was in on the quarter's first day
    stages: tuple[StageSpan, ...]  # every stage of the quarter's days in the range, in order


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
    actions_opened: int  # action items on the quarter's incidents (`figures.actions.total`)
    actions_closed: int  # closed in the quarter, on any counted incident
    actions_overdue_at_end: int  # overdue as of its last day, on any counted incident
    guards_added: tuple[str, ...]
    listing: "Listing"  # a page of the postmortems the viewer may see
    computed_at: datetime
    stages: tuple[StageSpan, ...]  # the company's growth stages during the quarter, in order
    headcount_start: int | None  # the company's headcount on the first day (None: no count yet)
    headcount_end: int | None  # … on `headcount_end_on`
    headcount_end_on: date  # the last day, or today while the quarter is not over
    guards: GuardReportFigures  # guard health at the quarter's end and escapes in it
    escapes_seen: dict[int, EscapeCount]  # per escaped guard: shown to the viewer / hidden

    @property
    def incidents(self) -> tuple[ListedIncident, ...]:
        return self.listing.incidents

    @property
    def hidden(self) -> int:
        return self.listing.hidden


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


def up_to(spans: Iterable[tuple[date, date]], today: date) -> list[tuple[date, date]]:
    """The spans (first day, exclusive end) cut to end with `today`: no rate counts a day
    after today."""
    tomorrow = today + timedelta(days=1)
    return [(lo, min(hi, tomorrow)) for lo, hi in spans if lo < min(hi, tomorrow)]


def rate(incidents: int, steps: list[Step], spans: Iterable[tuple[date, date]]) -> Rate:
    """Incidents per 10 people per quarter over the spans (first day, exclusive end); callers
    cut the spans at today (`up_to`)."""
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
            stages=stages_within(timeline, max(q.first_day, start), min(q.next_first_day, end)),
        )
        for q in quarters
    )
    stage_rows = tuple(
        StageRow(
            stage=stage,
            periods=tuple((lo, hi - timedelta(days=1)) for lo, hi in stage_spans[stage.id]),
            figures=by_stage[str(stage.id)],
            rate=rate(
                by_stage[str(stage.id)].incidents, steps, up_to(stage_spans[stage.id], as_of)
            ),
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
        overall_rate=rate(overall.incidents, steps, up_to([(start, end)], as_of)),
        computed_at=now,
    )


def _stage_name(timeline: GrowthTimeline, day: date) -> str | None:
    on_day = timeline.on(day)
    return None if on_day is None or on_day.stage is None else str(on_day.stage.name)


def stages_within(timeline: GrowthTimeline, start: date, end: date) -> tuple[StageSpan, ...]:
    """Every growth stage the company was in from `start` up to (not including) `end`, in
    order, each with its first day within those days (a stage entered twice is named twice;
    days in no stage are named by none)."""
    return tuple(
        StageSpan(period.stage.name, max(period.start, start))
        for period in timeline.periods
        if period.start < end and (period.end is None or period.end > start)
    )


def _headcount(timeline: GrowthTimeline, day: date) -> int | None:
    on_day = timeline.on(day)
    return None if on_day is None else on_day.total


def _quarter_counts(
    filters: ReportFilters, ranges: Ranges
) -> dict[str, tuple[int, int, dict[CauseCategory, int]]]:
    """Incidents, near-misses and incidents per category of each quarter, from its pieces."""
    spans = {name: months_of(start, end) for name, start, end in ranges}
    pieces = pieces_for(filters, {span for months in spans.values() for span in months})
    return {
        name: (
            sum(pieces[s].incidents for s in months),
            sum(pieces[s].near_misses for s in months),
            {c: sum(pieces[s].by_category.get(c, 0) for s in months) for c in CauseCategory},
        )
        for name, months in spans.items()
    }


# The quarterly review.


def quarter_filters(quarter: Quarter, **narrowing: Any) -> ReportFilters:
    return ReportFilters(quarter.first_day, quarter.last_day, **narrowing)


LISTING_PAGE = 100  # postmortems per page of the quarterly review


def quarterly_report(
    quarter: Quarter,
    viewer: User | None,
    *,
    now: datetime,
    page: int | None = 1,
    **narrowing: Any,
) -> QuarterlyReport:
    """The quarterly review: the quarter's figures against the previous quarter and the same
    quarter a year before, action items at the quarter's end, and the postmortems themselves
    (those the viewer may see, the others only counted; viewer None, the command line: all),
    a page of LISTING_PAGE at a time (`page` None: every one, for a document)."""
    filters = quarter_filters(quarter, **narrowing)
    # Each quarter's action items are partitioned as of its last day.
    compared = {"this": quarter, "previous": quarter.previous, "year_before": quarter.year_before}
    figures = group_figures(
        filters,
        [(label, q.first_day, q.next_first_day) for label, q in compared.items()],
        {label: q.last_day for label, q in compared.items()},
    )
    guards = tuple(
        session.scalars(
            select(GuardCheck.name)
            .where(*within(GuardCheck.created_at, quarter.first_day, quarter.next_first_day))
            .order_by(GuardCheck.name)
        )
    )
    listing = _listed_incidents(counted(filters), viewer, page, near_misses=filters.near_misses)
    closed, overdue_at_end = _closed_and_overdue(filters, quarter)
    timeline = growth_timeline()
    end_on = max(quarter.first_day, min(quarter.last_day, local_date(now)))
    return QuarterlyReport(
        quarter=quarter,
        filters=filters,
        zone=current_app.config["TIMEZONE"],
        figures=figures["this"],
        previous=figures["previous"],
        year_before=figures["year_before"],
        actions_opened=figures["this"].actions.total,  # the items of the quarter's incidents
        actions_closed=closed,
        actions_overdue_at_end=overdue_at_end,
        guards_added=guards,
        listing=listing,
        computed_at=now,
        stages=stages_within(timeline, quarter.first_day, quarter.next_first_day),
        headcount_start=_headcount(timeline, quarter.first_day),
        headcount_end=_headcount(timeline, end_on),
        headcount_end_on=end_on,
        # Every team's guards, as the guard pages count them; escapes split for the viewer.
        guards=guard_report(quarter.first_day, quarter.last_day, now),
        escapes_seen=escape_counts(viewer, quarter.first_day, quarter.last_day),
    )


def _closed_and_overdue(filters: ReportFilters, quarter: Quarter) -> tuple[int, int]:
    """Action items of any counted incident (near-misses' when the filters count those)
    closed in the quarter (done or decided won't do on one of its days, figures.closed_on: an
    item whose day is not recorded counts as closed on its incident's start day), and those
    overdue at its end (as of its last day): from the kept months of every counted incident."""
    # Asked apart: each is one step along the start-time index, both in one statement a scan.
    first, last = (
        session.scalar(select(bound(Incident.started_at)).where(*counted(filters, dated=False)))
        for bound in (func.min, func.max)
    )
    if first is None or last is None:
        return 0, 0
    start, end = local_date(first), local_date(last) + timedelta(days=1)
    return closed_and_overdue(filters, start, end, quarter.first_day, quarter.last_day)


@dataclass(frozen=True)
class Listing:
    """One page of the quarter's postmortems that the viewer may see, counted ones first."""

    incidents: tuple[ListedIncident, ...]
    page: int
    pages: int
    shown: int  # how many the viewer may see (near-misses left out when the filter says so)
    hidden: int  # counted incidents or near-misses of the quarter the viewer may not see


def _listed_incidents(
    where: list[ColumnElement[bool]], viewer: User | None, page: int | None, *, near_misses: bool
) -> Listing:
    seen = true() if viewer is None else visible_incidents(viewer)
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    visible = session.scalar(select(func.count()).select_from(Incident).where(*where, seen)) or 0
    shown_where = (
        [*where, seen] if near_misses else [*where, seen, Incident.is_near_miss.is_(False)]
    )
    shown = (
        visible
        if near_misses
        else (session.scalar(select(func.count()).select_from(Incident).where(*shown_where)) or 0)
    )
    pages = max(1, -(-shown // LISTING_PAGE))
    number = 1 if page is None else min(max(1, page), pages)
    ids = (
        select(Incident.id)
        .where(*shown_where)
        .order_by(Incident.is_near_miss, Incident.started_at, Incident.id)
    )
    if page is not None:
        ids = ids.limit(LISTING_PAGE).offset((number - 1) * LISTING_PAGE)
    # The page's incidents and their parts, chosen by one subquery (no parameter per incident).
    on_page = Incident.id.in_(ids.scalar_subquery())
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
        .where(on_page)
        .order_by(Incident.is_near_miss, Incident.started_at, Incident.id)
    ).all()
    categories: dict[int, set[CauseCategory]] = defaultdict(set)
    impacts: dict[int, list[str]] = defaultdict(list)
    keys: dict[int, str] = {}
    if rows:
        for incident_id, category in session.execute(
            select(IncidentFactor.incident_id, ContributingFactor.category)
            .join(ContributingFactor)
            .where(IncidentFactor.incident_id.in_(ids.scalar_subquery()))
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
            .where(ImpactEstimate.incident_id.in_(ids.scalar_subquery()))
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
    return Listing(listed, number, pages, shown, total - visible)


def impact_text(
    kind: ImpactKind,
    level: ImpactLevel | None,
    low: Decimal | None,
    likely: Decimal | None,
    high: Decimal | None,
    unit_label: str | None,
) -> str:
    """An impact estimate's values as text: a low–likely–high range with its unit, or a level."""
    if kind.is_qualitative:
        return f"{kind.label}: {level.label if level else '—'}"
    currency = unit_label if kind.is_money else None
    return f"{kind.label}: {estimate(low, likely, high, currency)} {unit_label or ''}".strip()
