"""The grouped SQL queries that compute month pieces: one set of statements over every range
asked for, each range a bucket (cold, that is the whole range; after one change, one month)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement as SQLColumn

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    ImpactEstimate,
    Incident,
    IncidentFactor,
)
from models.incident import action_item_guard
from postmortems.db import session
from postmortems.reports.figures import CLOSED, DURATIONS, FactorCount, ReportFilters, counted
from postmortems.reports.month_piece import Piece, RangeTotal
from postmortems.reports.month_ranges import ranges_table


def compute_pieces(filters: ReportFilters, spans: Sequence[tuple[date, date]]) -> dict[Any, Piece]:
    """The pieces of these spans of days for the filters, computed together: each span is one
    bucket of every query."""
    names = {f"{start}/{end}": (start, end) for start, end in spans}
    ranges = ranges_table([(name, start, end) for name, (start, end) in names.items()])
    where = counted(filters, dated=False)
    incidents, near = _counts(ranges, where)
    categories = _categories(ranges, where)
    factors = _factors(ranges, where)
    durations = {kind: _durations(ranges, where, kind) for kind in DURATIONS}
    impacts, levels = _impacts(ranges, where)
    actions = _actions(ranges, where)
    may_be_overdue = _may_be_overdue(ranges, where)
    days_to_done = _days_to_done(ranges, where)
    recurrences = _recurrences(ranges, where)
    return {
        span: Piece(
            incidents=incidents.get(name, 0),
            near_misses=near.get(name, 0),
            by_category=categories.get(name, {}),
            factors=factors.get(name, {}),
            durations={kind: durations[kind].get(name, _EMPTY) for kind in DURATIONS},
            impacts=impacts.get(name, {}),
            levels=levels.get(name, {}),
            actions=actions.get(name, (0, 0, 0, 0, 0)),
            may_be_overdue=tuple(may_be_overdue.get(name, ())),
            days_to_done=days_to_done.get(name, {}),
            recurrences=recurrences.get(name, 0),
        )
        for name, span in names.items()
    }


_EMPTY = np.array([], dtype=np.int64)


# SQLite would otherwise walk a filter's own index (a team's, a severity's) once per range.
FIGURES_INDEX = "INDEXED BY ix_incident_report_figures"


def _over(ranges: Any, *columns: Any) -> Any:
    """SELECT the range's name and `columns` over the incidents joined to the ranges they
    started in, read through the report index."""
    return (
        select(ranges.c.name, *columns)
        .select_from(ranges)
        .join(
            Incident, and_(Incident.started_at >= ranges.c.low, Incident.started_at < ranges.c.high)
        )
        .with_hint(Incident, FIGURES_INDEX, "sqlite")
    )


def _counts(ranges: Any, where: list[ColumnElement[bool]]) -> tuple[dict[str, int], ...]:
    rows = session.execute(
        _over(ranges, Incident.is_near_miss, func.count())
        .where(*where)
        .group_by(ranges.c.name, Incident.is_near_miss)
    )
    incidents: dict[str, int] = {}
    near: dict[str, int] = {}
    for name, is_near_miss, n in rows:
        (near if is_near_miss else incidents)[name] = n
    return incidents, near


def _categories(
    ranges: Any, where: list[ColumnElement[bool]]
) -> dict[str, dict[CauseCategory, int]]:
    """Incidents per category: an incident counts once in each category it has a factor in."""
    stmt = (
        _over(ranges, ContributingFactor.category, func.count(Incident.id.distinct()))
        .join(IncidentFactor, IncidentFactor.incident_id == Incident.id)
        .join(ContributingFactor, ContributingFactor.id == IncidentFactor.factor_id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(ranges.c.name, ContributingFactor.category)
    )
    result: dict[str, dict[CauseCategory, int]] = defaultdict(dict)
    for name, category, n in session.execute(stmt):
        result[name][category] = n
    return result


def _factors(ranges: Any, where: list[ColumnElement[bool]]) -> dict[str, dict[int, FactorCount]]:
    stmt = (
        _over(
            ranges,
            ContributingFactor.id,
            ContributingFactor.name,
            ContributingFactor.category,
            func.count(Incident.id.distinct()),
        )
        .join(IncidentFactor, IncidentFactor.incident_id == Incident.id)
        .join(ContributingFactor, ContributingFactor.id == IncidentFactor.factor_id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(
            ranges.c.name,
            ContributingFactor.id,
            ContributingFactor.name,
            ContributingFactor.category,
        )
    )
    result: dict[str, dict[int, FactorCount]] = defaultdict(dict)
    for name, factor_id, factor_name, category, n in session.execute(stmt):
        result[name][factor_id] = FactorCount(factor_id, factor_name, category, n)
    return result


def _duration_ends(kind: str) -> tuple[Any, Any]:
    if kind == "time_to_detect":
        return Incident.started_at, Incident.detected_at
    if kind == "time_to_mitigate":
        return Incident.detected_at, Incident.mitigated_at
    return Incident.started_at, Incident.resolved_at


def _microseconds(earlier: Any, later: Any) -> SQLColumn[Any]:
    """later − earlier in whole microseconds, exactly, in SQL (SQLite keeps the instants as
    text 'YYYY-MM-DD HH:MM:SS.ffffff'; its julianday is a float and would round)."""
    if session.get_bind().dialect.name == "sqlite":

        def whole(at: Any) -> Any:
            return cast(func.strftime("%s", at), BigInteger)

        def fraction(at: Any) -> Any:
            return cast(func.substr(at, 21, 6), BigInteger)

        return (whole(later) - whole(earlier)) * 1_000_000 + fraction(later) - fraction(earlier)  # type: ignore[no-any-return]
    return cast(func.extract("epoch", later - earlier) * 1_000_000, BigInteger)


def _durations(ranges: Any, where: list[ColumnElement[bool]], kind: str) -> dict[str, np.ndarray]:
    """Each bucket's values of one duration, in microseconds, sorted."""
    earlier, later = _duration_ends(kind)
    stmt = _over(ranges, _microseconds(earlier, later)).where(
        *where, Incident.is_near_miss.is_(False), earlier.is_not(None), later.is_not(None)
    )
    values: dict[str, list[int]] = defaultdict(list)
    for name, microseconds in session.execute(stmt):
        values[name].append(microseconds)
    return {name: np.sort(np.array(v, dtype=np.int64)) for name, v in values.items()}


def _impacts(
    ranges: Any, where: list[ColumnElement[bool]]
) -> tuple[dict[str, dict[Any, RangeTotal]], dict[str, dict[Any, int]]]:
    """Impact sums per kind and currency or unit, exact: the database groups equal values and
    counts them (SQLite keeps decimals as text and would sum them as floats); the sums of the
    distinct values are taken here in Decimal. Near-misses' impacts are left out."""
    unit = func.coalesce(ImpactEstimate.currency, ImpactEstimate.unit)
    columns = (
        ImpactEstimate.kind,
        unit,
        ImpactEstimate.level,
        ImpactEstimate.low,
        ImpactEstimate.likely,
        ImpactEstimate.high,
    )
    stmt = (
        _over(ranges, *columns, func.count())
        .join(ImpactEstimate, ImpactEstimate.incident_id == Incident.id)
        .where(*where, Incident.is_near_miss.is_(False))
        .group_by(ranges.c.name, *columns)
    )
    sums: dict[str, dict[Any, RangeTotal]] = defaultdict(lambda: defaultdict(RangeTotal))
    levels: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for name, kind, unit_label, level, low, likely, high, n in session.execute(stmt):
        if kind.is_qualitative:
            if level is not None:
                levels[name][(kind, level.name)] += n
            continue
        sums[name][(kind, unit_label or "")] += RangeTotal.of(low, likely, high, n)
    return (
        {name: dict(by) for name, by in sums.items()},
        {name: dict(by) for name, by in levels.items()},
    )


def _counting(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _actions(
    ranges: Any, where: list[ColumnElement[bool]]
) -> dict[str, tuple[int, int, int, int, int]]:
    """Action items of the counted incidents (near-misses' too: their follow-ups count)."""
    guarded = (
        select(action_item_guard.c.action_item_id)
        .where(action_item_guard.c.action_item_id == ActionItem.id)
        .exists()
    )
    stmt = (
        _over(
            ranges,
            func.count(),
            _counting(ActionItem.status == ActionStatus.DONE),
            _counting(ActionItem.status == ActionStatus.WONT_DO),
            _counting(ActionItem.type == ActionType.PREVENTIVE),
            _counting(and_(ActionItem.type == ActionType.PREVENTIVE, guarded)),
        )
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where)
        .group_by(ranges.c.name)
    )
    return {
        name: (int(total), int(done), int(wont_do), int(preventive), int(guarded_n))
        for name, total, done, wont_do, preventive, guarded_n in session.execute(stmt)
    }


def _may_be_overdue(
    ranges: Any, where: list[ColumnElement[bool]]
) -> dict[str, list[tuple[date, date | None, int]]]:
    """The items that are overdue on some day: due, and open or closed after their due day;
    counted per (due day, closed on, or None while open)."""
    open_ = ActionItem.status.not_in(CLOSED)
    closed_on = case((open_, null()), else_=ActionItem.completed_on)
    stmt = (
        _over(ranges, ActionItem.due_on, closed_on, func.count())
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(
            *where,
            ActionItem.due_on.is_not(None),
            or_(open_, ActionItem.completed_on > ActionItem.due_on),
        )
        .group_by(ranges.c.name, ActionItem.due_on, closed_on)
    )
    result: dict[str, list[tuple[date, date | None, int]]] = defaultdict(list)
    for name, due, closed, n in session.execute(stmt):
        result[name].append((_as_date(due), None if closed is None else _as_date(closed), n))
    return result


def _as_date(value: Any) -> date:
    """A date from a CASE over dates (SQLite returns its text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _days_to_done(ranges: Any, where: list[ColumnElement[bool]]) -> dict[str, dict[int, int]]:
    """The days from the incident's start (its local day) to done, counted per number of
    days: a few hundred rows."""
    days = _days_between(ranges.c.east, ActionItem.completed_on)
    stmt = (
        _over(ranges, days, func.count())
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where, ActionItem.status == ActionStatus.DONE, ActionItem.completed_on.is_not(None))
        .group_by(ranges.c.name, days)
    )
    result: dict[str, dict[int, int]] = defaultdict(dict)
    for name, n_days, n in session.execute(stmt):
        result[name][int(n_days)] = n
    return result


def _days_between(seconds_east: Any, later: Any) -> SQLColumn[Any]:
    """Days from the incident's local start day to the date `later`, in SQL: the start moved by
    the zone's offset in force at that instant (its range's), then its date."""
    if session.get_bind().dialect.name == "sqlite":
        local_day = func.date(Incident.started_at, seconds_east.concat(" seconds"))
        return cast(func.julianday(later) - func.julianday(local_day), Integer)
    shifted = Incident.started_at + func.make_interval(0, 0, 0, 0, 0, 0, seconds_east)
    return later - cast(shifted, Date)  # type: ignore[no-any-return]


def _recurrences(ranges: Any, where: list[ColumnElement[bool]]) -> dict[str, int]:
    stmt = (
        _over(ranges, func.count())
        .where(*where, Incident.is_near_miss.is_(False), Incident.recurrence_of_id.is_not(None))
        .group_by(ranges.c.name)
    )
    return {name: n for name, n in session.execute(stmt)}
