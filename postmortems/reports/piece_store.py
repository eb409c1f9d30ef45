"""Month pieces kept in this process, and the figures of named ranges of days merged from them.

A group's figures (a growth stage, a quarter, the whole range) are merged from the pieces of
the local calendar months it covers (month_piece.py). A piece is kept until the figure version
of a UTC month it overlaps moves (`figure_version`, moved by every commit that writes a row
these figures read: versions.py), or the "*" version moves. The pieces missing are computed
together, in one set of grouped SQL queries over their date ranges (month_sql.py).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from models import FigureVersion
from postmortems.cache import has_pending_writes, lru_store, store_get, store_put
from postmortems.db import session
from postmortems.reports.figures import GroupFigures, ReportFilters
from postmortems.reports.month_piece import Piece, merge, overdue
from postmortems.reports.month_ranges import Ranges, months_of
from postmortems.reports.month_sql import compute_pieces
from postmortems.reports.versions import ALL_MONTHS, month_scope
from postmortems.timezones import start_of_local_day

MAX_PIECES = 5000  # a bound on memory: the least recently used pieces go first


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


def overdue_on(filters: ReportFilters, start: date, end: date, as_of: date) -> int:
    """Action items of the incidents started from `start` to `end` (exclusive) that were
    overdue on `as_of`."""
    return overdue(pieces_for(filters, months_of(start, end)).values(), as_of)


# Kept pieces: in the cache's one kind of store (least recently used first out).


def pieces_for(filters: ReportFilters, spans: Iterable[tuple[date, date]]) -> dict[Any, Piece]:
    """The pieces of these spans for the filters' narrowing (team, severity, status): kept
    ones while their months' versions stand, the others computed together and kept."""
    versions = _versions()
    narrowing = (filters.team_id, filters.severity, filters.status)
    zone = current_app.config["TIMEZONE"]
    keys = {
        span: ("piece", zone, narrowing, span, _span_versions(span, versions)) for span in spans
    }
    store = lru_store("figure_pieces", MAX_PIECES)
    found: dict[Any, Piece] = {}
    for span, key in keys.items():
        piece = store_get(store, key)
        if piece is not None:
            found[span] = piece
    missing = sorted(span for span in keys if span not in found)
    if missing:
        computed = compute_pieces(filters, missing)
        if not has_pending_writes():
            for span, piece in computed.items():
                store_put(store, keys[span], piece)
        found.update(computed)
    return found


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
