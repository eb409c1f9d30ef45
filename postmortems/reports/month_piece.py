"""The figures of one month of incidents (a *piece*), and how pieces merge into a group's figures.

A piece holds what merges exactly: counts per category and factor, impact sums in Decimal,
each duration's values in microseconds, sorted (percentiles do not merge otherwise; 8 bytes an
incident), and the action items' days as ordinals (the day each was done or decided, each due
day that can pass open), the incidents' and the near-misses' apart, so that one piece serves
the partition on every as-of day and either near-miss choice. The SQL that computes pieces is
in month_sql.py; which pieces are kept, in piece_store.py.
"""

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from postmortems.reports.stats import MEDIAN, P90, percentiles

MICROSECONDS = Decimal(1_000_000)


@dataclass(frozen=True)
class RangeTotal:
    """The estimates of one kind in one currency or unit (figures.ImpactTotal says the rule):
    `ranges` full ranges summed bound by bound into `low`, `likely`, `high`; `apart` estimates
    without a full range, of which `apart_given` gave a likely value, summed in `apart_likely`."""

    ranges: int = 0
    low: Decimal = Decimal(0)
    likely: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    apart: int = 0
    apart_given: int = 0
    apart_likely: Decimal = Decimal(0)

    @classmethod
    def of(
        cls, low: Decimal | None, likely: Decimal | None, high: Decimal | None, count: int
    ) -> "RangeTotal":
        """The total of `count` equal estimates."""
        if low is not None and likely is not None and high is not None:
            return cls(count, Decimal(low) * count, Decimal(likely) * count, Decimal(high) * count)
        if likely is None:
            return cls(apart=count)
        return cls(apart=count, apart_given=count, apart_likely=Decimal(likely) * count)

    def __add__(self, other: "RangeTotal") -> "RangeTotal":
        return RangeTotal(
            self.ranges + other.ranges,
            self.low + other.low,
            self.likely + other.likely,
            self.high + other.high,
            self.apart + other.apart,
            self.apart_given + other.apart_given,
            self.apart_likely + other.apart_likely,
        )


OPEN = np.iinfo(np.int32).max  # the closing day of an item still open
UNKNOWN_DAYS = -1  # days to done of an item whose completion day is not known


def _days(values: Sequence[int] = ()) -> np.ndarray:
    return np.array(values, dtype=np.int32)


@dataclass(frozen=True)
class ItemDays:
    """The action items of some incidents as the partition on any day needs them, days as
    ordinals (int32): `done_on` the day each done item was completed, sorted, with `done_days`
    (from its incident's start day to then; UNKNOWN_DAYS when that day is not known) in the
    same order; `wont_do_on` the day each won't-do item was decided, sorted; `due_on` the due
    day of each item that can pass its due day open (open, or closed after it), sorted, with
    the day it was closed (OPEN while open) in `due_closed_on`. An item closed on a day not
    recorded counts as closed on its incident's start day (figures.closed_on)."""

    total: int = 0
    preventive: int = 0
    guarded: int = 0  # preventive and linked to a guard check
    done_on: np.ndarray = field(default_factory=_days)
    done_days: np.ndarray = field(default_factory=_days)
    wont_do_on: np.ndarray = field(default_factory=_days)
    due_on: np.ndarray = field(default_factory=_days)
    due_closed_on: np.ndarray = field(default_factory=_days)

    def done(self, as_of: int) -> int:
        """Items done by the end of the day `as_of` (an ordinal)."""
        return int(np.searchsorted(self.done_on, as_of, side="right"))

    def wont_do(self, as_of: int) -> int:
        return int(np.searchsorted(self.wont_do_on, as_of, side="right"))

    def overdue(self, as_of: int) -> int:
        """Items due before the day `as_of` and neither done nor decided by its end."""
        due = int(np.searchsorted(self.due_on, as_of, side="left"))
        return int(np.count_nonzero(self.due_closed_on[:due] > as_of))

    def days_to_done(self, as_of: int) -> np.ndarray:
        """The days to done of the items done by the end of `as_of` whose day is known."""
        days: np.ndarray = self.done_days[: self.done(as_of)]
        known: np.ndarray = days[days != UNKNOWN_DAYS]
        return known


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
    items: ItemDays  # the action items of the incidents
    near_miss_items: ItemDays  # of the near-misses
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
# strings, enums by name, durations as the bytes of their int64 values, action items' days as
# the bytes of their int32 ordinals.


def _array_text(values: np.ndarray, dtype: str) -> str:
    return base64.b64encode(values.astype(dtype).tobytes()).decode("ascii")


def _array(text: str, dtype: str, kind: type) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).astype(kind)


_ITEM_ARRAYS = ("done_on", "done_days", "wont_do_on", "due_on", "due_closed_on")


def _items_text(items: ItemDays) -> dict[str, Any]:
    return {
        "counts": [items.total, items.preventive, items.guarded],
        **{name: _array_text(getattr(items, name), "<i4") for name in _ITEM_ARRAYS},
    }


def _items_of(body: Mapping[str, Any]) -> ItemDays:
    total, preventive, guarded = body["counts"]
    arrays = {name: _array(body[name], "<i4", np.int32) for name in _ITEM_ARRAYS}
    return ItemDays(total, preventive, guarded, **arrays)


def to_text(piece: Piece) -> str:
    """The piece as JSON text that from_text reads back equal."""
    body = {
        "incidents": piece.incidents,
        "near_misses": piece.near_misses,
        "by_category": {c.name: n for c, n in piece.by_category.items()},
        "factors": [
            [f.factor_id, f.name, f.category.name, f.incidents] for f in piece.factors.values()
        ],
        "durations": {kind: _array_text(v, "<i8") for kind, v in piece.durations.items()},
        "impacts": [
            [kind.name, unit, t.ranges, str(t.low), str(t.likely), str(t.high)]
            + [t.apart, t.apart_given, str(t.apart_likely)]
            for (kind, unit), t in piece.impacts.items()
        ],
        "levels": [[kind.name, level, n] for (kind, level), n in piece.levels.items()],
        "items": _items_text(piece.items),
        "near_miss_items": _items_text(piece.near_miss_items),
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
        durations={kind: _array(data, "<i8", np.int64) for kind, data in body["durations"].items()},
        impacts={
            (ImpactKind[kind], unit): RangeTotal(
                ranges,
                Decimal(low),
                Decimal(likely),
                Decimal(high),
                apart,
                given,
                Decimal(apart_likely),
            )
            for kind, unit, ranges, low, likely, high, apart, given, apart_likely in body["impacts"]
        },
        levels={(ImpactKind[kind], level): n for kind, level, n in body["levels"]},
        items=_items_of(body["items"]),
        near_miss_items=_items_of(body["near_miss_items"]),
        recurrences=body["recurrences"],
    )


def item_days(pieces: Iterable[Piece], near_misses: bool) -> list[ItemDays]:
    """The action items of the pieces' incidents, and of their near-misses when counted."""
    return [
        part
        for piece in pieces
        for part in ((piece.items, piece.near_miss_items) if near_misses else (piece.items,))
    ]


def overdue(pieces: Iterable[Piece], as_of: date, *, near_misses: bool = True) -> int:
    """Action items overdue on the as-of day: due before it, and neither done nor decided by
    its end (a quarter's figures are as of its last day, whatever happened since)."""
    day = as_of.toordinal()
    return sum(part.overdue(day) for part in item_days(pieces, near_misses))


def closed_between(
    pieces: Iterable[Piece], first: date, last: date, *, near_misses: bool = True
) -> int:
    """Action items done or decided won't do from the day `first` to `last` (both included),
    by the days the pieces keep (figures.closed_on's)."""
    before, end = first.toordinal() - 1, last.toordinal()
    return sum(
        part.done(end) - part.done(before) + part.wont_do(end) - part.wont_do(before)
        for part in item_days(pieces, near_misses)
    )


def merge(
    pieces: Sequence[Piece], as_of: date, minimum: int, *, near_misses: bool = True
) -> GroupFigures:
    """The figures of a group from its pieces; `minimum` incidents to read a trend from; the
    action items partitioned on `as_of`, the near-misses' with them when `near_misses`."""
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
        actions=_merged_actions(item_days(pieces, near_misses), as_of),
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
        ImpactTotal(
            kind, unit, t.ranges, t.low, t.likely, t.high, t.apart, t.apart_given, t.apart_likely
        )
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


def _merged_actions(parts: Sequence[ItemDays], as_of: date) -> ActionFigures:
    day = as_of.toordinal()
    days = [d for d in (part.days_to_done(day) for part in parts) if len(d)]
    if len(days) == 1:
        days = [np.sort(days[0])]  # percentiles reads a single part as sorted
    found = percentiles([d.astype(np.int64) for d in days], (MEDIAN, P90))
    days_to_done = (
        DurationStats(0, None, None)
        if found is None
        else DurationStats(sum(len(d) for d in days), found[0], found[1])
    )
    return ActionFigures(
        total=sum(part.total for part in parts),
        done=sum(part.done(day) for part in parts),
        wont_do=sum(part.wont_do(day) for part in parts),
        overdue=sum(part.overdue(day) for part in parts),
        as_of=as_of,
        days_to_done=days_to_done,
        preventive=sum(part.preventive for part in parts),
        preventive_guarded=sum(part.guarded for part in parts),
    )
