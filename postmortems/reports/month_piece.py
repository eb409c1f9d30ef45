"""The figures of one month of incidents (a *piece*), and how pieces merge into a group's figures.

A piece holds what merges exactly: counts per category and factor, impact sums in Decimal,
action item counts, the days to done counted per number of days, the due days of the items that
can be overdue (so that one piece serves every as-of day), and each duration's values in
microseconds, sorted (percentiles do not merge otherwise; 8 bytes an incident). The SQL that
computes pieces is in month_sql.py; which pieces are kept, in piece_store.py.
"""

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from models import CauseCategory, ImpactKind
from postmortems.reports.figures import (
    DURATIONS,
    TOP_FACTORS,
    ActionFigures,
    DurationStats,
    FactorCount,
    GroupFigures,
    ImpactTotal,
    LevelCount,
    tied_beyond,
)
from postmortems.reports.stats import MEDIAN, P90, counted_percentiles, percentiles

MICROSECONDS = Decimal(1_000_000)


@dataclass(frozen=True)
class RangeTotal:
    """Sums of the low / likely / high values of some estimates of one kind in one currency or
    unit: `n` estimates, `n_low` … how many gave that bound (a missing bound adds nothing)."""

    n: int = 0
    low: Decimal = Decimal(0)
    likely: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    n_low: int = 0
    n_likely: int = 0
    n_high: int = 0

    @classmethod
    def of(
        cls, low: Decimal | None, likely: Decimal | None, high: Decimal | None, count: int
    ) -> "RangeTotal":
        """The total of `count` equal estimates."""

        def times(value: Decimal | None) -> Decimal:
            return Decimal(0) if value is None else Decimal(value) * count

        return cls(
            count,
            times(low),
            times(likely),
            times(high),
            0 if low is None else count,
            0 if likely is None else count,
            0 if high is None else count,
        )

    def __add__(self, other: "RangeTotal") -> "RangeTotal":
        return RangeTotal(
            self.n + other.n,
            self.low + other.low,
            self.likely + other.likely,
            self.high + other.high,
            self.n_low + other.n_low,
            self.n_likely + other.n_likely,
            self.n_high + other.n_high,
        )


@dataclass(frozen=True)
class Piece:
    """The mergeable figures of the counted incidents that started in one range of days."""

    incidents: int
    near_misses: int
    by_category: Mapping[CauseCategory, int]
    factors: Mapping[int, FactorCount]
    durations: Mapping[str, np.ndarray]  # microseconds, sorted
    impacts: Mapping[tuple[ImpactKind, str], RangeTotal]  # per kind and currency or unit
    levels: Mapping[tuple[ImpactKind, str], int]
    actions: tuple[int, int, int, int, int]  # total, done, won't do, preventive, guarded
    may_be_overdue: tuple[tuple[date, date | None, int], ...]  # due, closed on (None: open), n
    days_to_done: Mapping[int, int]  # days → items
    recurrences: int


def named(piece: Piece, factors: Mapping[int, tuple[str, CauseCategory]]) -> Piece:
    """The piece with its factors' current names and categories (a piece is kept by factor
    id, so that renaming a factor leaves every piece good)."""
    relabelled = {
        factor_id: FactorCount(
            factor_id, *factors.get(factor_id, (f.name, f.category)), f.incidents
        )
        for factor_id, f in piece.factors.items()
    }
    return replace(piece, factors=relabelled)


# A piece as text, to be stored for every worker (piece_store.py): exact, money as Decimal
# strings, enums by name, days as ordinals, durations as the bytes of their int64 values.


def to_text(piece: Piece) -> str:
    """The piece as JSON text that from_text reads back equal."""
    body = {
        "incidents": piece.incidents,
        "near_misses": piece.near_misses,
        "by_category": {c.name: n for c, n in piece.by_category.items()},
        "factors": [
            [f.factor_id, f.name, f.category.name, f.incidents] for f in piece.factors.values()
        ],
        "durations": {
            kind: base64.b64encode(values.astype("<i8").tobytes()).decode("ascii")
            for kind, values in piece.durations.items()
        },
        "impacts": [
            [kind.name, unit, t.n, str(t.low), str(t.likely), str(t.high), t.n_low, t.n_likely]
            + [t.n_high]
            for (kind, unit), t in piece.impacts.items()
        ],
        "levels": [[kind.name, level, n] for (kind, level), n in piece.levels.items()],
        "actions": list(piece.actions),
        "may_be_overdue": [
            [due.toordinal(), None if closed is None else closed.toordinal(), n]
            for due, closed, n in piece.may_be_overdue
        ],
        "days_to_done": [[days, n] for days, n in piece.days_to_done.items()],
        "recurrences": piece.recurrences,
    }
    return json.dumps(body, separators=(",", ":"))


def from_text(text: str) -> Piece:
    """The piece that to_text wrote."""
    body: dict[str, Any] = json.loads(text)
    return Piece(
        incidents=body["incidents"],
        near_misses=body["near_misses"],
        by_category={CauseCategory[c]: n for c, n in body["by_category"].items()},
        factors={
            factor_id: FactorCount(factor_id, name, CauseCategory[category], n)
            for factor_id, name, category, n in body["factors"]
        },
        durations={
            kind: np.frombuffer(base64.b64decode(data), dtype="<i8").astype(np.int64)
            for kind, data in body["durations"].items()
        },
        impacts={
            (ImpactKind[kind], unit): RangeTotal(
                n, Decimal(low), Decimal(likely), Decimal(high), n_low, n_likely, n_high
            )
            for kind, unit, n, low, likely, high, n_low, n_likely, n_high in body["impacts"]
        },
        levels={(ImpactKind[kind], level): n for kind, level, n in body["levels"]},
        actions=tuple(body["actions"]),
        may_be_overdue=tuple(
            (date.fromordinal(due), None if closed is None else date.fromordinal(closed), n)
            for due, closed, n in body["may_be_overdue"]
        ),
        days_to_done={days: n for days, n in body["days_to_done"]},
        recurrences=body["recurrences"],
    )


def overdue(pieces: Iterable[Piece], as_of: date) -> int:
    """Action items overdue on the as-of day: due before it, and open then (not closed yet, or
    closed from that day on: a quarter's figures are as of its end, whatever happened since)."""
    return sum(
        n
        for piece in pieces
        for due, closed_on, n in piece.may_be_overdue
        if due < as_of and (closed_on is None or closed_on >= as_of)
    )


def merge(pieces: Sequence[Piece], as_of: date, minimum: int) -> GroupFigures:
    """The figures of a group from its pieces; `minimum` incidents to read a trend from."""
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
        durations={kind: _durations([p.durations.get(kind) for p in pieces]) for kind in DURATIONS},
        impacts=_merged_impacts(pieces),
        levels=_merged_levels(pieces),
        actions=_merged_actions(pieces, as_of),
        recurrences=sum(p.recurrences for p in pieces),
        small=incidents < minimum,
        top_factors_tied_beyond=tied_beyond(top, TOP_FACTORS),
    )


def _durations(arrays: Sequence[np.ndarray | None]) -> DurationStats:
    """Median and p90 of the values of every piece, in seconds."""
    present = [a for a in arrays if a is not None]
    found = percentiles(present, (MEDIAN, P90), MICROSECONDS)
    if found is None:
        return DurationStats(0, None, None)
    median, p90 = found
    return DurationStats(sum(len(a) for a in present), median, p90)


def _merged_impacts(pieces: Sequence[Piece]) -> tuple[ImpactTotal, ...]:
    sums: dict[tuple[ImpactKind, str], RangeTotal] = defaultdict(RangeTotal)
    for piece in pieces:
        for key, total in piece.impacts.items():
            sums[key] += total
    kinds = list(ImpactKind)
    return tuple(
        ImpactTotal(kind, unit, t.n, t.low, t.likely, t.high, t.n_low, t.n_likely, t.n_high)
        for (kind, unit), t in sorted(sums.items(), key=lambda i: (kinds.index(i[0][0]), i[0][1]))
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
    days: dict[int, int] = defaultdict(int)
    for piece in pieces:
        for n_days, n in piece.days_to_done.items():
            days[n_days] += n
    found = counted_percentiles(days, (MEDIAN, P90))
    days_to_done = (
        DurationStats(0, None, None)
        if found is None
        else DurationStats(sum(days.values()), found[0], found[1])
    )
    return ActionFigures(
        total=total,
        done=done,
        wont_do=wont_do,
        overdue=overdue(pieces, as_of),
        as_of=as_of,
        days_to_done=days_to_done,
        preventive=preventive,
        preventive_guarded=guarded,
    )
