"""Where the reports open and what their quarter picker lists: the quarters that hold incidents
the reader may see (counted ones, near-misses included), newest first.

Each quarter is found by one index seek: the newest counted incident the reader may see before
the start of the last quarter found (`started_at` DESC, LIMIT 1), so the seeks together walk
the time index at most once, whatever the number of incidents, and the quarters are the team's
local calendar quarters whatever the zone's offsets.
"""

from datetime import date

from sqlalchemy import select

from models import Incident, User
from postmortems.auth.access import visible_incidents
from postmortems.cache import cached
from postmortems.db import session
from postmortems.incidents.counting import counts
from postmortems.incidents.order import newest_first
from postmortems.reports.periods import FIRST_REPORT_YEAR, LAST_REPORT_YEAR, Quarter
from postmortems.timezones import local_date, start_of_local_day

TREND_QUARTERS = 8  # the trend report opens on the last 8 quarters that hold incidents
MAX_QUARTERS = (LAST_REPORT_YEAR - FIRST_REPORT_YEAR + 1) * 4


def quarters_with_incidents(viewer: User) -> tuple[Quarter, ...]:
    """The quarters holding a counted incident `viewer` may see, newest first (kept per viewer
    until the data changes)."""
    return cached(("report_quarters",), lambda: _seek_quarters(viewer), viewer=viewer)


def _seek_quarters(viewer: User) -> tuple[Quarter, ...]:
    """The quarters holding counted incidents `viewer` may see, by one seek each."""
    found: list[Quarter] = []
    # Along the time index: without statistics SQLite's planner takes the visibility
    # condition's OR for a multi-index OR over status, team and author (most of the table).
    newest = newest_first(
        select(Incident.started_at)
        .where(Incident.started_at.is_not(None), counts(), visible_incidents(viewer))
        .order_by(Incident.started_at.desc())
        .limit(1),
        many=True,
    )
    stmt = newest
    while len(found) < MAX_QUARTERS:
        started = session.scalar(stmt)
        if started is None:
            break
        quarter = Quarter.of(local_date(started))
        if not FIRST_REPORT_YEAR <= quarter.year <= LAST_REPORT_YEAR:
            break  # outside what a report can show (the stored range's zone edges)
        found.append(quarter)
        stmt = newest.where(Incident.started_at < start_of_local_day(quarter.first_day))
    return tuple(found)


def trend_span(quarters: tuple[Quarter, ...], today: date) -> tuple[date, date] | None:
    """The trend report's opening span: from the first day of the 8th newest quarter in
    `quarters` (or the oldest) to the last day of the newest, or today when that quarter is
    not over yet; None when there are none (the report keeps its own default)."""
    if not quarters:
        return None
    newest, oldest = quarters[0], quarters[:TREND_QUARTERS][-1]
    end = min(newest.last_day, today) if newest.first_day <= today else newest.last_day
    return oldest.first_day, end


def opening_quarter(quarters: tuple[Quarter, ...], today: date) -> Quarter:
    """The quarterly review's opening quarter: the newest that holds incidents, or (with none)
    the last full quarter."""
    return quarters[0] if quarters else Quarter.of(today).previous


def neighbours(
    quarters: tuple[Quarter, ...], quarter: Quarter
) -> tuple[Quarter | None, Quarter | None]:
    """The nearest quarters before and after `quarter` that hold incidents (None: none on that
    side); with no incidents at all, the calendar neighbours."""
    if not quarters:
        return quarter.previous, quarter.next
    before = next((q for q in quarters if q < quarter), None)
    after = next((q for q in reversed(quarters) if q > quarter), None)
    return before, after
