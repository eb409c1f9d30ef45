"""A guard's passes and failures per week, as numbers and as a small SVG drawn on the server.

The SVG is plain markup in the page (no script, no style attributes: the classes are styled
by our stylesheet), with the same numbers in a table beside it.
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from models import GuardCheck, GuardRun, RunStatus
from postmortems.db import session
from postmortems.timezones import local_date, start_of_local_day

WEEKS = 12
# The drawing's coordinate system (the SVG scales to its box).
WIDTH, HEIGHT, BAR_GAP, LABEL_SPACE = 480, 120, 6, 16


@dataclass(frozen=True)
class WeekRuns:
    start: date  # the Monday, in the team's zone
    passes: int
    fails: int


@dataclass(frozen=True)
class Bar:
    week: WeekRuns
    x: float
    width: float
    pass_y: float
    pass_height: float
    fail_y: float
    fail_height: float


def weekly_runs(guard: GuardCheck, as_of: datetime, weeks: int = WEEKS) -> list[WeekRuns]:
    """Passes and failures in each of the `weeks` weeks (Monday to Sunday, local) up to the
    one `as_of` falls in, oldest first, zeros included: one query along the guard's index."""
    today = local_date(as_of)
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    bounds = [start_of_local_day(d) for d in starts] + [start_of_local_day(monday + timedelta(7))]
    # The weeks' passes and failures, one range of the (guard, ran_at) index, counted here:
    # building two dozen counting subqueries cost more than the few runs they count.
    passes, fails = [0] * weeks, [0] * weeks
    runs = session.execute(
        select(GuardRun.status, GuardRun.ran_at).where(
            GuardRun.guard_check_id == guard.id,
            GuardRun.status.in_((RunStatus.PASS, RunStatus.FAIL)),
            GuardRun.ran_at >= bounds[0],
            GuardRun.ran_at < bounds[-1],
        )
    )
    for status, ran_at in runs:
        week = bisect_right(bounds, ran_at) - 1
        (passes if status == RunStatus.PASS else fails)[week] += 1
    return [
        WeekRuns(start=start, passes=passes[i], fails=fails[i]) for i, start in enumerate(starts)
    ]


def bars(weeks: list[WeekRuns]) -> list[Bar]:
    """Stacked bars, passes at the bottom, scaled to the busiest week."""
    tallest = max((w.passes + w.fails for w in weeks), default=0) or 1
    slot = WIDTH / max(len(weeks), 1)
    plot = HEIGHT - LABEL_SPACE
    result = []
    for i, week in enumerate(weeks):
        pass_height = plot * week.passes / tallest
        fail_height = plot * week.fails / tallest
        result.append(
            Bar(
                week=week,
                x=round(i * slot + BAR_GAP / 2, 2),
                width=round(slot - BAR_GAP, 2),
                pass_y=round(plot - pass_height, 2),
                pass_height=round(pass_height, 2),
                fail_y=round(plot - pass_height - fail_height, 2),
                fail_height=round(fail_height, 2),
            )
        )
    return result
