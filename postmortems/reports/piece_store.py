"""Month pieces kept in this process, and the figures of named ranges of days merged from them.

A group's figures (a growth stage, a quarter, the whole range) are merged from the pieces of
the local calendar months it covers (month_piece.py). A piece is kept until the figure version
of a UTC month it overlaps moves (`figure_version`, moved by every commit that writes a row
these figures read: versions.py), or the "*" version moves. The pieces missing are computed
together, in one set of grouped SQL queries over their date ranges (month_sql.py).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models import ContributingFactor, FigurePiece, FigureVersion
from postmortems.cache import has_pending_writes, lru_store, store_get, store_put
from postmortems.db import bookkeeping, dialect_insert, session
from postmortems.reports.figures import GroupFigures, ReportFilters
from postmortems.reports.month_piece import (
    Piece,
    closed_between,
    from_text,
    merge,
    named,
    overdue,
    to_text,
)
from postmortems.reports.month_ranges import Ranges, months_of
from postmortems.reports.month_sql import compute_pieces
from postmortems.reports.versions import ALL_MONTHS, month_scope
from postmortems.timezones import start_of_local_day

PIECE_FORM = "p4"  # how month_piece.to_text writes a piece: change it when that changes
MAX_PIECES = 5000  # a bound on memory: the least recently used pieces go first
logger = logging.getLogger(__name__)


def group_figures(
    filters: ReportFilters, ranges: Ranges, as_of: date | Mapping[str, date]
) -> dict[str, GroupFigures]:
    """Every figure for each named range of days (a name may cover several ranges), merged
    from its months' pieces. Action items are partitioned as of the end of the day `as_of`
    (one day, or one per name), the near-misses' with them when the filters count those."""
    by_name: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for name, start, end in ranges:
        by_name[name] += months_of(start, end)
    pieces = pieces_for(filters, {span for spans in by_name.values() for span in spans})
    factors = _factor_labels()
    pieces = {span: named(piece, factors) for span, piece in pieces.items()}
    minimum = current_app.config["REPORT_MIN_SAMPLE_SIZE"]
    return {
        name: merge(
            [pieces[span] for span in spans],
            as_of if isinstance(as_of, date) else as_of[name],
            minimum,
            near_misses=filters.near_misses,
        )
        for name, spans in by_name.items()
    }


def _factor_labels() -> dict[int, tuple[str, Any]]:
    """Every factor's name and category now: pieces count factors by id."""
    rows = session.execute(
        select(ContributingFactor.id, ContributingFactor.name, ContributingFactor.category)
    )
    return {factor_id: (name, category) for factor_id, name, category in rows}


def closed_and_overdue(
    filters: ReportFilters, start: date, end: date, first: date, last: date
) -> tuple[int, int]:
    """Of the action items of the incidents started from `start` to `end` (exclusive; the
    near-misses' when the filters count those): how many were closed from the day `first` to
    `last`, and how many of those whose incidents started by `last` were overdue on it."""
    pieces = pieces_for(filters, months_of(start, end))
    closed = closed_between(pieces.values(), first, last, near_misses=filters.near_misses)
    by_then = [piece for (span_start, _), piece in pieces.items() if span_start <= last]
    return closed, overdue(by_then, last, near_misses=filters.near_misses)


# Kept pieces: first in this process's store (least recently used first out), then in the
# database's figure_piece table that every worker and instance reads.


def pieces_for(filters: ReportFilters, spans: Iterable[tuple[date, date]]) -> dict[Any, Piece]:
    """The pieces of these spans for the filters' narrowing (team, severity, status): kept
    ones while their months' versions stand (this process's, then the stored ones), the others
    computed together, then kept and stored."""
    versions = _versions()
    narrowing = _narrowing(filters)
    wanted = {span: _span_versions(span, versions) for span in spans}
    store = lru_store("figure_pieces", MAX_PIECES)
    found: dict[Any, Piece] = {}
    for span, at in wanted.items():
        piece = store_get(store, (narrowing, span, at))
        if piece is not None:
            found[span] = piece
    stored = _read_stored(narrowing, {s: v for s, v in wanted.items() if s not in found})
    for span, piece in stored.items():
        store_put(store, (narrowing, span, wanted[span]), piece)
    found.update(stored)
    missing = sorted(span for span in wanted if span not in found)
    if missing:
        computed = compute_pieces(filters, missing)
        if not has_pending_writes():
            for span, piece in computed.items():
                store_put(store, (narrowing, span, wanted[span]), piece)
            _store(narrowing, {span: (wanted[span], piece) for span, piece in computed.items()})
        found.update(computed)
    return found


def _narrowing(filters: ReportFilters) -> str:
    """The stored form, the zone and the narrowing filters a piece is for: "p3|UTC|3|SEV1|"
    (team 3, SEV1, any status). Rows of another form are never read (the bound clears them)."""
    values = (filters.team_id, filters.severity, filters.status)
    named = ("" if v is None else str(getattr(v, "name", v)) for v in values)
    return "|".join([PIECE_FORM, current_app.config["TIMEZONE"], *named])


def _versions_text(versions: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in versions)


def _read_stored(
    narrowing: str, wanted: Mapping[tuple[date, date], tuple[int, ...]]
) -> dict[Any, Piece]:
    """The stored pieces of these spans computed at the versions wanted: one statement over
    the days they cover, in the request's own transaction (a read: it takes no lock)."""
    if not wanted:
        return {}
    rows = session.execute(
        select(FigurePiece.first_day, FigurePiece.end_day, FigurePiece.versions, FigurePiece.body)
        .where(FigurePiece.narrowing == narrowing)
        .where(FigurePiece.first_day >= min(s[0] for s in wanted))
        .where(FigurePiece.first_day <= max(s[0] for s in wanted))
    )
    found: dict[Any, Piece] = {}
    for first_day, end_day, stored_versions, body in rows:
        at = wanted.get((first_day, end_day))
        if at is not None and stored_versions == _versions_text(at):
            found[(first_day, end_day)] = from_text(body)
    return found


def _store(
    narrowing: str, pieces: Mapping[tuple[date, date], tuple[tuple[int, ...], Piece]]
) -> None:
    """Store computed pieces for every worker, in a short transaction of their own (never the
    reader's). A piece already stored is replaced only by a later reading of its versions
    (their sum, `stamp`, only goes up), so a worker that computed from older versions cannot
    overwrite a newer piece; rows are written in order, so two workers cannot deadlock.
    Storing only saves work: when it fails (a lock not had in time), the reader still has its
    pieces."""
    if not pieces:
        return
    made_at = datetime.now(UTC)
    rows = [
        {
            "narrowing": narrowing,
            "first_day": span[0],
            "end_day": span[1],
            "versions": _versions_text(versions),
            "stamp": sum(versions),
            "body": to_text(piece),
            "made_at": made_at,
        }
        for span, (versions, piece) in sorted(pieces.items())
    ]
    try:
        with bookkeeping() as writer:
            stmt = dialect_insert(FigurePiece)
            writer.execute(
                stmt.on_conflict_do_update(
                    index_elements=[
                        FigurePiece.narrowing,
                        FigurePiece.first_day,
                        FigurePiece.end_day,
                    ],
                    set_={
                        "versions": stmt.excluded.versions,
                        "stamp": stmt.excluded.stamp,
                        "body": stmt.excluded.body,
                        "made_at": stmt.excluded.made_at,
                    },
                    where=stmt.excluded.stamp > FigurePiece.stamp,
                ),
                rows,
            )
            _bound(writer)
    except DBAPIError:
        logger.warning("report pieces not stored", exc_info=True)


def _bound(writer: Session) -> None:
    """Past REPORT_STORED_PIECES rows, the oldest made go (a piece whose version moved is
    replaced in place when asked for again, so the table holds one row per piece asked)."""
    over = (writer.scalar(select(func.count()).select_from(FigurePiece)) or 0) - current_app.config[
        "REPORT_STORED_PIECES"
    ]
    if over > 0:
        oldest = (
            select(FigurePiece.made_at)
            .order_by(FigurePiece.made_at)
            .offset(over - 1)
            .limit(1)
            .scalar_subquery()
        )
        writer.execute(delete(FigurePiece).where(FigurePiece.made_at <= oldest))


def figures_version() -> int:
    """A number that moves whenever any figure version moves (they only go up): what a kept
    report assembled from pieces, stage periods, headcount and factor names depends on."""
    return sum(_versions().values())


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
