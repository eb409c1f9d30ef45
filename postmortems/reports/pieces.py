"""Report figures kept per month of incidents, so that a change recomputes one month, not years.

A group's figures (a growth stage, a quarter, the whole range) are merged from the figures of
the local calendar months it covers, its *pieces*. Each piece holds what merges exactly:
counts per category and factor, impact sums in Decimal, action item counts, the days to done
counted per number of days, the due days of the items that can be overdue (so that one piece
serves every as-of day), and each duration's values in microseconds, sorted (percentiles do
not merge otherwise; 8 bytes an incident).

A piece is kept in this process until the figure version of a UTC month it overlaps moves
(`figure_version`, moved by every commit that writes a row these figures read: versions.py), or
the "*" version moves. The pieces missing are computed together, in one set of grouped SQL
queries over their date ranges: cold, that is the whole range; after one change, one month.
"""

import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement as SQLColumn

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    FigureVersion,
    ImpactEstimate,
    ImpactKind,
    Incident,
    IncidentFactor,
)
from models.incident import action_item_guard
from postmortems.cache import has_pending_writes
from postmortems.db import session
from postmortems.reports.figures import (
    CLOSED,
    DURATIONS,
    TOP_FACTORS,
    ActionFigures,
    DurationStats,
    FactorCount,
    GroupFigures,
    ImpactTotal,
    LevelCount,
    ReportFilters,
    counted,
)
from postmortems.reports.stats import MEDIAN, P90, interpolation_rank
from postmortems.reports.versions import ALL_MONTHS, month_scope
from postmortems.timezones import local_zone, start_of_local_day

Ranges = Sequence[tuple[str, date, date]]  # (bucket, first day, exclusive end day)
MAX_PIECES = 5000  # a bound on memory: the least recently used pieces go first
MICROSECONDS = Decimal(1_000_000)


@dataclass(frozen=True)
class Piece:
    """The mergeable figures of the counted incidents that started in one range of days."""

    incidents: int
    near_misses: int
    by_category: Mapping[CauseCategory, int]
    factors: Mapping[int, FactorCount]
    durations: Mapping[str, np.ndarray]  # microseconds, sorted
    impacts: Mapping[tuple[ImpactKind, str], tuple[Any, ...]]  # n, low, likely, high, n_…
    levels: Mapping[tuple[ImpactKind, str], int]
    actions: tuple[int, int, int, int, int]  # total, done, won't do, preventive, guarded
    may_be_overdue: tuple[tuple[date, date | None, int], ...]  # due, closed on (None: open), n
    days_to_done: Mapping[int, int]  # days → items
    recurrences: int


def group_figures(
    filters: ReportFilters, ranges: Ranges, as_of: date | Mapping[str, date]
) -> dict[str, GroupFigures]:
    """Every figure for each named range of days (a name may cover several ranges), merged
    from its months' pieces. Action items count as overdue when due before `as_of` (one day,
    or one per name)."""
    by_name: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for name, start, end in ranges:
        by_name[name] += months_of(start, end)
    pieces = pieces_for(filters, {span for spans in by_name.values() for span in spans})
    minimum = current_app.config["REPORT_MIN_SAMPLE_SIZE"]
    return {
        name: merge(
            [pieces[span] for span in spans],
            as_of if isinstance(as_of, date) else as_of[name],
            minimum,
        )
        for name, spans in by_name.items()
    }


def _overdue(pieces: Iterable[Piece], as_of: date) -> int:
    return sum(
        n
        for piece in pieces
        for due, closed_on, n in piece.may_be_overdue
        if due < as_of and (closed_on is None or closed_on >= as_of)
    )


def overdue_on(filters: ReportFilters, start: date, end: date, as_of: date) -> int:
    """Action items of the incidents started from `start` to `end` (exclusive) that were
    overdue on `as_of`."""
    return _overdue(pieces_for(filters, months_of(start, end)).values(), as_of)


def months_of(start: date, end: date) -> list[tuple[date, date]]:
    """The days `start` to `end` (exclusive) cut at the first of each month."""
    spans = []
    while start < end:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        spans.append((start, min(following, end)))
        start = following
    return spans


# Kept pieces.

_lock = threading.Lock()


def pieces_for(filters: ReportFilters, spans: Iterable[tuple[date, date]]) -> dict[Any, Piece]:
    """The pieces of these spans for the filters' narrowing (team, severity, status): kept
    ones while their months' versions stand, the others computed together and kept."""
    versions = _versions()
    narrowing = (filters.team_id, filters.severity, filters.status)
    zone = current_app.config["TIMEZONE"]
    keys = {
        span: ("piece", zone, narrowing, span, _span_versions(span, versions)) for span in spans
    }
    store = _store()
    found: dict[Any, Piece] = {}
    with _lock:
        for span, key in keys.items():
            piece = store.get(key)
            if piece is not None:
                store.move_to_end(key)
                found[span] = piece
    missing = sorted(span for span in keys if span not in found)
    if missing:
        computed = compute_pieces(filters, missing)
        if not has_pending_writes():
            with _lock:
                for span, piece in computed.items():
                    store[keys[span]] = piece
                while len(store) > MAX_PIECES:
                    store.popitem(last=False)
        found.update(computed)
    return found


def _store() -> "OrderedDict[Hashable, Piece]":
    store: OrderedDict[Hashable, Piece] = current_app.extensions.setdefault(
        "figure_pieces", OrderedDict()
    )
    return store


def _versions() -> dict[str, int]:
    """Every month's figure version, read before any figure (a change committed meanwhile
    leaves a piece kept under the older version: computed again next time, never stale)."""
    rows = session.execute(select(FigureVersion.scope, FigureVersion.number))
    return {scope: number for scope, number in rows}


def _span_versions(span: tuple[date, date], versions: Mapping[str, int]) -> tuple[int, ...]:
    """The versions a piece depends on: "*" and each UTC month its instants overlap."""
    first = start_of_local_day(span[0])
    last = start_of_local_day(span[1]) - timedelta(microseconds=1)
    months = [month_scope(first)]
    if month_scope(last) != months[0]:
        months.append(month_scope(last))
    return tuple(versions.get(scope, 0) for scope in [ALL_MONTHS, *months])


# Merging pieces into a group's figures.


def merge(pieces: Sequence[Piece], as_of: date, minimum: int) -> GroupFigures:
    incidents = sum(p.incidents for p in pieces)
    factors: dict[int, FactorCount] = {}
    for piece in pieces:
        for factor_id, f in piece.factors.items():
            seen = factors.get(factor_id)
            factors[factor_id] = (
                f
                if seen is None
                else FactorCount(f.factor_id, f.name, f.category, seen.incidents + f.incidents)
            )
    top = sorted(factors.values(), key=lambda f: (-f.incidents, f.name, f.factor_id))
    return GroupFigures(
        incidents=incidents,
        near_misses=sum(p.near_misses for p in pieces),
        by_category={c: sum(p.by_category.get(c, 0) for p in pieces) for c in CauseCategory},
        top_factors=tuple(top[:TOP_FACTORS]),
        durations={
            kind: _percentiles([p.durations.get(kind) for p in pieces]) for kind in DURATIONS
        },
        impacts=_merged_impacts(pieces),
        levels=_merged_levels(pieces),
        actions=_merged_actions(pieces, as_of),
        recurrences=sum(p.recurrences for p in pieces),
        small=incidents < minimum,
    )


def _percentiles(arrays: Sequence[np.ndarray | None]) -> DurationStats:
    """Median and p90 of the values of every piece, interpolated between closest ranks in
    Decimal from the exact microseconds at those ranks."""
    present = [a for a in arrays if a is not None and len(a)]
    if not present:
        return DurationStats(0, None, None)
    values = np.concatenate(present) if len(present) > 1 else present[0]
    n = len(values)
    ranks = sorted(
        {r for p in (MEDIAN, P90) for r in _ranks(n, p)}
    )  # the rows on either side of each percentile
    chosen = np.partition(values, ranks) if len(present) > 1 else values
    at = {r: Decimal(int(chosen[r])) / MICROSECONDS for r in ranks}
    return DurationStats(n, _interpolated(at, n, MEDIAN), _interpolated(at, n, P90))


def _ranks(n: int, p: Decimal) -> list[int]:
    low, fraction = interpolation_rank(n, p)
    return [low] if fraction == 0 else [low, low + 1]


def _interpolated(values: Mapping[int, Decimal], n: int, p: Decimal) -> Decimal:
    low, fraction = interpolation_rank(n, p)
    if fraction == 0:
        return values[low]
    return values[low] + fraction * (values[low + 1] - values[low])


def _counted_percentiles(counts: Mapping[int, int]) -> DurationStats:
    """Median and p90 of whole numbers given as value → how many."""
    total = sum(counts.values())
    if total == 0:
        return DurationStats(0, None, None)
    ranks = sorted({r for p in (MEDIAN, P90) for r in _ranks(total, p)})
    values: dict[int, Decimal] = {}
    below = 0
    for value in sorted(counts):
        n = counts[value]
        values.update({r: Decimal(value) for r in ranks if below <= r < below + n})
        below += n
    return DurationStats(
        total, _interpolated(values, total, MEDIAN), _interpolated(values, total, P90)
    )


def _merged_impacts(pieces: Sequence[Piece]) -> tuple[ImpactTotal, ...]:
    sums: dict[tuple[ImpactKind, str], list[Any]] = {}
    for piece in pieces:
        for key, totals in piece.impacts.items():
            entry = sums.setdefault(key, [0, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0])
            for i, value in enumerate(totals):
                entry[i] += value
    kinds = list(ImpactKind)
    return tuple(
        ImpactTotal(kind, unit, *entry)
        for (kind, unit), entry in sorted(
            sums.items(), key=lambda i: (kinds.index(i[0][0]), i[0][1])
        )
    )


def _merged_levels(pieces: Sequence[Piece]) -> tuple[LevelCount, ...]:
    counts: dict[tuple[ImpactKind, str], int] = defaultdict(int)
    for piece in pieces:
        for key, n in piece.levels.items():
            counts[key] += n
    kinds = list(ImpactKind)
    return tuple(
        LevelCount(kind, level, n)
        for (kind, level), n in sorted(
            counts.items(), key=lambda i: (kinds.index(i[0][0]), i[0][1])
        )
    )


def _merged_actions(pieces: Sequence[Piece], as_of: date) -> ActionFigures:
    columns = zip(*(p.actions for p in pieces), strict=True)
    total, done, wont_do, preventive, guarded = (sum(c) for c in columns) if pieces else [0] * 5
    # Overdue on the as-of day: due before it, and open then (not closed yet, or closed from
    # that day on: a quarter's figures are as of its end, whatever happened to the item since).
    overdue = _overdue(pieces, as_of)
    days: dict[int, int] = defaultdict(int)
    for piece in pieces:
        for n_days, n in piece.days_to_done.items():
            days[n_days] += n
    return ActionFigures(
        total=total,
        done=done,
        wont_do=wont_do,
        overdue=overdue,
        as_of=as_of,
        days_to_done=_counted_percentiles(days),
        preventive=preventive,
        preventive_guarded=guarded,
    )


# Computing pieces: one set of grouped queries over the spans, each span a bucket.


def compute_pieces(filters: ReportFilters, spans: Sequence[tuple[date, date]]) -> dict[Any, Piece]:
    names = {f"{start}/{end}": (start, end) for start, end in spans}
    ranges = _ranges([(name, start, end) for name, (start, end) in names.items()])
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


def _ranges(ranges: Ranges) -> Any:
    """The named ranges as a table of (name, first instant, end instant, the zone's UTC offset
    in seconds) to join incidents to: the database walks the start-time index once per range,
    with no expression per row. A range is cut where the zone's offset changes, so that each
    row has one. The rows travel as one parameter (a JSON array on SQLite, arrays on
    PostgreSQL), so that the statement is the same whatever the number of months."""
    rows = [
        (name, low, high, east)
        for name, start, end in ranges
        for low, high, east in _offset_spans(start, end)
    ]
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        # The column's own text form, of naive UTC; not through the column's type, which
        # refuses instants past 2100 (the end of 2100Q4 east of Greenwich bounds nothing).
        text = DateTime().dialect_impl(dialect).bind_processor(dialect)
        assert text is not None

        def instant(at: datetime) -> str:
            return str(text(at.astimezone(UTC).replace(tzinfo=None)))

        data = json.dumps(
            [[name, instant(low), instant(high), east] for name, low, high, east in rows]
        )
        value = func.json_each(bindparam("ranges", data, String)).table_valued("value").c.value
        return select(
            *(func.json_extract(value, f"$[{i}]").label(c) for i, c in enumerate(RANGE_COLUMNS))
        ).cte("ranges")
    columns = [list(c) for c in zip(*rows, strict=True)]
    arrays = [
        bindparam("range_name", columns[0], ARRAY(String)),
        bindparam("range_low", columns[1], ARRAY(DateTime(timezone=True))),
        bindparam("range_high", columns[2], ARRAY(DateTime(timezone=True))),
        bindparam("range_east", columns[3], ARRAY(Integer)),
    ]
    return func.unnest(*arrays).table_valued(*RANGE_COLUMNS).render_derived(name="ranges")


RANGE_COLUMNS = ("name", "low", "high", "east")


def _offset_spans(start: date, end: date) -> list[tuple[datetime, datetime, int]]:
    """The instants from the local day `start` to `end` (exclusive), cut where the zone's UTC
    offset changes: (first instant, end instant, offset in seconds east of UTC)."""
    low, high = start_of_local_day(start), start_of_local_day(end)
    offsets = _local_day_offsets(start, end)
    cuts = [low, *(at for at, _ in offsets[1:] if at is not None), high]
    return [(a, b, east) for a, b, (_, east) in zip(cuts[:-1], cuts[1:], offsets, strict=True)]


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
) -> tuple[dict[str, dict[Any, tuple[Any, ...]]], dict[str, dict[Any, int]]]:
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
    sums: dict[str, dict[Any, list[Any]]] = defaultdict(dict)
    levels: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for name, kind, unit_label, level, low, likely, high, n in session.execute(stmt):
        if kind.is_qualitative:
            if level is not None:
                levels[name][(kind, level.name)] += n
            continue
        entry = sums[name].setdefault(
            (kind, unit_label or ""), [0, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0]
        )
        entry[0] += n
        for i, value in enumerate((low, likely, high)):
            if value is not None:
                entry[1 + i] += Decimal(value) * n
                entry[4 + i] += n
    return (
        {name: {k: tuple(v) for k, v in by.items()} for name, by in sums.items()},
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
