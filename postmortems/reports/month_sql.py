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
from postmortems.reports.figures import (
    CLOSED,
    DURATIONS,
    FactorCount,
    ReportFilters,
    closed_on,
    counted,
)
from postmortems.reports.month_piece import OPEN, UNKNOWN_DAYS, ItemDays, Piece, RangeTotal
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
    items = _items(ranges, where)
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
            items=items.get(name, _NO_ITEMS)[0],
            near_miss_items=items.get(name, _NO_ITEMS)[1],
            recurrences=recurrences.get(name, 0),
        )
        for name, span in names.items()
    }


_EMPTY = np.array([], dtype=np.int64)
_NO_ITEMS = (ItemDays(), ItemDays())


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


# Action items: the incidents' and the near-misses' apart (the filters choose at merging),
# their days grouped in SQL and spread into arrays here.

_Items = dict[tuple[str, bool], dict[str, Any]]


def _items(ranges: Any, where: list[ColumnElement[bool]]) -> dict[str, tuple[ItemDays, ItemDays]]:
    """Each bucket's action items of its incidents and of its near-misses."""
    found: _Items = defaultdict(lambda: defaultdict(list))
    _item_counts(ranges, where, found)
    _closed_items(ranges, where, found)
    _may_be_overdue(ranges, where, found)
    return {
        name: (_item_days(found.get((name, False))), _item_days(found.get((name, True))))
        for name in {name for name, _ in found}
    }


def _item_days(found: dict[str, Any] | None) -> ItemDays:
    if found is None:
        return ItemDays()

    def spread(key: str) -> tuple[np.ndarray, np.ndarray]:
        rows = sorted(found.get(key, []))
        values = np.array([r[:2] for r in rows], dtype=np.int32).reshape(-1, 2)
        counts = np.array([r[2] for r in rows], dtype=np.int64)
        spread_rows = np.repeat(values, counts, axis=0)
        return spread_rows[:, 0].copy(), spread_rows[:, 1].copy()

    done_on, done_days = spread("done")
    wont_do_on, _ = spread("wont_do")
    due_on, due_closed_on = spread("due")
    total, preventive, guarded = found.get("counts", (0, 0, 0))
    return ItemDays(
        total, preventive, guarded, done_on, done_days, wont_do_on, due_on, due_closed_on
    )


def _item_counts(ranges: Any, where: list[ColumnElement[bool]], found: _Items) -> None:
    guarded = (
        select(action_item_guard.c.action_item_id)
        .where(action_item_guard.c.action_item_id == ActionItem.id)
        .exists()
    )
    stmt = (
        _over(
            ranges,
            Incident.is_near_miss,
            func.count(),
            _counting(ActionItem.type == ActionType.PREVENTIVE),
            _counting(and_(ActionItem.type == ActionType.PREVENTIVE, guarded)),
        )
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where)
        .group_by(ranges.c.name, Incident.is_near_miss)
    )
    for name, is_near_miss, total, preventive, guarded_n in session.execute(stmt):
        found[(name, is_near_miss)]["counts"] = (int(total), int(preventive), int(guarded_n))


def _closed_items(ranges: Any, where: list[ColumnElement[bool]], found: _Items) -> None:
    """Done and won't-do items per closing day (figures.closed_on), with the days from the
    incident's start to done."""
    closing = closed_on(_local_start_day(ranges.c.east))
    days = _days_between(ranges.c.east, ActionItem.completed_on)
    stmt = (
        _over(ranges, Incident.is_near_miss, ActionItem.status, closing, days, func.count())
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(*where, ActionItem.status.in_(CLOSED))
        .group_by(ranges.c.name, Incident.is_near_miss, ActionItem.status, closing, days)
    )
    for name, is_near_miss, status, day, n_days, n in session.execute(stmt):
        ordinal = _as_date(day).toordinal()
        if status is ActionStatus.DONE:
            known = UNKNOWN_DAYS if n_days is None else int(n_days)
            found[(name, is_near_miss)]["done"].append((ordinal, known, n))
        else:
            found[(name, is_near_miss)]["wont_do"].append((ordinal, 0, n))


def _may_be_overdue(ranges: Any, where: list[ColumnElement[bool]], found: _Items) -> None:
    """The items that can pass their due day open: due, and open or closed after it; counted
    per (due day, closing day, or OPEN while open)."""
    closing = closed_on(_local_start_day(ranges.c.east))
    stmt = (
        _over(ranges, Incident.is_near_miss, ActionItem.due_on, closing, func.count())
        .join(ActionItem, ActionItem.incident_id == Incident.id)
        .where(
            *where,
            ActionItem.due_on.is_not(None),
            or_(closing.is_(None), closing > ActionItem.due_on),
        )
        .group_by(ranges.c.name, Incident.is_near_miss, ActionItem.due_on, closing)
    )
    for name, is_near_miss, due, closed, n in session.execute(stmt):
        day = OPEN if closed is None else _as_date(closed).toordinal()
        found[(name, is_near_miss)]["due"].append((_as_date(due).toordinal(), day, n))


def _as_date(value: Any) -> date:
    """A date from a CASE over dates (SQLite returns its text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _local_start_day(seconds_east: Any) -> SQLColumn[Any]:
    """The incident's local start day, in SQL: the start moved by the zone's offset in force
    at that instant (its range's), then its date."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Incident.started_at, seconds_east.concat(" seconds"))
    shifted = Incident.started_at + func.make_interval(0, 0, 0, 0, 0, 0, seconds_east)
    return cast(shifted, Date)


def _days_between(seconds_east: Any, later: Any) -> SQLColumn[Any]:
    """Days from the incident's local start day to the date `later`, in SQL."""
    local_day = _local_start_day(seconds_east)
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(local_day), Integer)
    return later - local_day  # type: ignore[no-any-return]


def _recurrences(ranges: Any, where: list[ColumnElement[bool]]) -> dict[str, int]:
    stmt = (
        _over(ranges, func.count())
        .where(*where, Incident.is_near_miss.is_(False), Incident.recurrence_of_id.is_not(None))
        .group_by(ranges.c.name)
    )
    return {name: n for name, n in session.execute(stmt)}
