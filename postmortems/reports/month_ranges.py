"""Days of incidents as named ranges of instants, the table the month queries join incidents to.

A range of local days is cut at the first of each month (one piece a month) and where the
zone's UTC offset changes (so that each row of the table has one offset, for days in SQL).
"""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from postmortems.db import session
from postmortems.timezones import local_zone, start_of_local_day

Ranges = Sequence[tuple[str, date, date]]  # (bucket, first day, exclusive end day)


def months_of(start: date, end: date) -> list[tuple[date, date]]:
    """The days `start` to `end` (exclusive) cut at the first of each month."""
    spans = []
    while start < end:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        spans.append((start, min(following, end)))
        start = following
    return spans


def ranges_table(ranges: Ranges) -> Any:
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
    offsets = local_day_offsets(start, end)
    cuts = [low, *(at for at, _ in offsets[1:] if at is not None), high]
    return [(a, b, east) for a, b, (_, east) in zip(cuts[:-1], cuts[1:], offsets, strict=True)]


def local_day_offsets(start: date, end: date) -> list[tuple[datetime | None, int]]:
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
