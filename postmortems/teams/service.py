"""Teams, headcount snapshots and growth stages, and the company's headcount on a given day."""

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import GrowthStage, HeadcountSnapshot, Team
from postmortems.audit.service import record_event
from postmortems.cache import cached
from postmortems.db import is_taken, session
from postmortems.domain import DomainError, Problems

# Far above any company, far below the database's integer limits.
MAX_HEADCOUNT = 1_000_000


class TeamError(DomainError):
    """A team, snapshot or stage change that would break a rule."""


def list_teams() -> Select[Team]:
    """Teams by name, with their headcount counts loaded in one extra query."""
    return select(Team).options(selectinload(Team.snapshots)).order_by(Team.name)


def list_stages() -> Select[GrowthStage]:
    return select(GrowthStage).order_by(GrowthStage.min_headcount)


def overlapping_stage(
    min_headcount: int, max_headcount: int | None, *, exclude_id: int | None = None
) -> GrowthStage | None:
    """The first existing stage whose band shares a headcount with the given band, if any."""
    for stage in session.scalars(list_stages()):
        if stage.id == exclude_id:
            continue
        below = max_headcount is not None and max_headcount < stage.min_headcount
        above = stage.max_headcount is not None and min_headcount > stage.max_headcount
        if not (below or above):
            return stage
    return None


@dataclass(frozen=True)
class StageBand:
    """A growth stage as plain values, safe to keep between requests."""

    id: int
    name: str
    min_headcount: int
    max_headcount: int | None

    def contains(self, headcount: int) -> bool:
        return self.min_headcount <= headcount and (
            self.max_headcount is None or headcount <= self.max_headcount
        )


@dataclass(frozen=True)
class HeadcountOnDay:
    """The company's headcount on one day: the sum of each team's latest snapshot by then."""

    on_date: date
    total: int
    by_team: dict[str, int]
    stage: StageBand | None
    counted_on: date | None = None  # the newest snapshot it rests on

    @property
    def is_stale(self) -> bool:
        """Whether the newest count it rests on is over a year older than the day."""
        return self.counted_on is not None and (self.on_date - self.counted_on).days > 365


@dataclass(frozen=True)
class HeadcountSpan:
    """Days from `start` up to (not including) `end` with one company headcount; `end` None
    means it still holds."""

    start: date
    end: date | None
    total: int
    stage: StageBand | None


@dataclass(frozen=True)
class GrowthPeriod:
    """A span of days during which the company was in one growth stage."""

    stage: StageBand
    start: date
    end: date | None  # exclusive; None: the company is still in this stage


class GrowthTimeline:
    """Every team's snapshots and the stages as plain values, to answer many days cheaply.

    `growth_timeline()` keeps one per data version, so pages do not load it again.
    """

    def __init__(self) -> None:
        self.stages = [
            StageBand(s.id, s.name, s.min_headcount, s.max_headcount)
            for s in session.scalars(list_stages())
        ]
        rows = session.execute(
            select(Team.name, HeadcountSnapshot.on_date, HeadcountSnapshot.headcount)
            .join(HeadcountSnapshot.team)
            .order_by(HeadcountSnapshot.on_date)
        )
        self._dates: dict[str, list[date]] = defaultdict(list)
        self._counts: dict[str, list[int]] = defaultdict(list)
        for team_name, on_date, headcount in rows:
            self._dates[team_name].append(on_date)
            self._counts[team_name].append(headcount)
        self.spans = self._spans()
        self.periods = self._periods()

    def on(self, day: date) -> HeadcountOnDay | None:
        """The headcount on `day`, or None when no team had a snapshot yet."""
        by_team = {}
        counted_on: date | None = None
        for team_name, dates in self._dates.items():
            i = bisect.bisect_right(dates, day)
            if i:
                by_team[team_name] = self._counts[team_name][i - 1]
                counted_on = max(counted_on or dates[i - 1], dates[i - 1])
        if not by_team:
            return None
        total = sum(by_team.values())
        return HeadcountOnDay(
            on_date=day,
            total=total,
            by_team=by_team,
            stage=self.stage_of(total),
            counted_on=counted_on,
        )

    def stage_of(self, headcount: int) -> StageBand | None:
        return next((s for s in self.stages if s.contains(headcount)), None)

    def _spans(self) -> list[HeadcountSpan]:
        """The company headcount as a step function: one span per change of the total."""
        days = sorted({d for dates in self._dates.values() for d in dates})
        spans: list[HeadcountSpan] = []
        for i, day in enumerate(days):
            on_day = self.on(day)
            assert on_day is not None  # a snapshot exists on this day
            end = days[i + 1] if i + 1 < len(days) else None
            if spans and spans[-1].total == on_day.total:
                spans[-1] = HeadcountSpan(spans[-1].start, end, on_day.total, on_day.stage)
            else:
                spans.append(HeadcountSpan(day, end, on_day.total, on_day.stage))
        return spans

    def _periods(self) -> list[GrowthPeriod]:
        """Consecutive spans in the same stage, merged; days in no stage belong to none."""
        periods: list[GrowthPeriod] = []
        for span in self.spans:
            if span.stage is None:
                continue
            last = periods[-1] if periods else None
            if last is not None and last.stage == span.stage and last.end == span.start:
                periods[-1] = GrowthPeriod(last.stage, last.start, span.end)
            else:
                periods.append(GrowthPeriod(span.stage, span.start, span.end))
        return periods


def growth_timeline() -> GrowthTimeline:
    """The growth timeline, built once per data version (a few dozen rows of input)."""
    return cached(("growth_timeline",), GrowthTimeline, viewer=None)


def growth_periods(stage_id: int | None = None) -> list[GrowthPeriod]:
    """The spans of days the company spent in each stage (or in the given one), in order."""
    periods = growth_timeline().periods
    return [p for p in periods if stage_id is None or p.stage.id == stage_id]


# Writes.


def create_team(*, name: str, description: str = "") -> Team:
    team = Team(name=_team_name(name, None), description=description)
    session.add(team)
    session.flush()
    record_event("added team", "team", team.id, team.name)
    return team


def update_team(team: Team, *, name: str, description: str = "") -> None:
    team.name, team.description = _team_name(name, team), description
    session.flush()
    record_event("edited team", "team", team.id, team.name)


def _team_name(name: str, team: Team | None) -> str:
    name = name.strip()
    problems = Problems()
    if not name:
        problems.add("name", "Give the team a name.")
    problems.check_length("name", name, 120)
    if name and is_taken(Team, team, name=name):
        problems.add("name", "Another team has this name.")
    problems.raise_if_any(TeamError)
    return name


def add_snapshot(team: Team, *, on_date: date, headcount: int) -> HeadcountSnapshot:
    """Record the team's headcount as of a date; 0 means the team ended then."""
    problems = Problems()
    if not 0 <= headcount <= MAX_HEADCOUNT:
        problems.add("headcount", f"Give a whole number from 0 to {MAX_HEADCOUNT:,}.")
    if not date(1970, 1, 1) <= on_date <= date(2100, 12, 31):
        problems.add("on_date", "Choose a date from 1970 to 2100.")
    taken = select(HeadcountSnapshot.id).where(
        HeadcountSnapshot.team_id == team.id, HeadcountSnapshot.on_date == on_date
    )
    if session.scalar(taken) is not None:
        problems.add("on_date", "This team already has a count for this date; remove it first.")
    problems.raise_if_any(TeamError)
    snapshot = HeadcountSnapshot(on_date=on_date, headcount=headcount)
    team.snapshots.append(snapshot)
    session.flush()
    record_event("added headcount", "team", team.id, f"{team.name}: {headcount} as of {on_date}")
    return snapshot


def delete_snapshot(snapshot: HeadcountSnapshot) -> None:
    record_event(
        "removed headcount",
        "team",
        snapshot.team_id,
        f"{snapshot.headcount} as of {snapshot.on_date}",
    )
    session.delete(snapshot)
    session.flush()


@dataclass(frozen=True)
class StageValues:
    name: str
    min_headcount: int
    max_headcount: int | None = None
    description: str = ""


def create_stage(values: StageValues) -> GrowthStage:
    values = _checked_stage(values, None)
    stage = GrowthStage(
        name=values.name,
        min_headcount=values.min_headcount,
        max_headcount=values.max_headcount,
        description=values.description,
    )
    session.add(stage)
    session.flush()
    record_event("added growth stage", "growth_stage", stage.id, f"{stage.name} {stage.band}")
    return stage


def update_stage(stage: GrowthStage, values: StageValues) -> None:
    values = _checked_stage(values, stage)
    stage.name, stage.description = values.name, values.description
    stage.min_headcount, stage.max_headcount = values.min_headcount, values.max_headcount
    session.flush()
    record_event("edited growth stage", "growth_stage", stage.id, f"{stage.name} {stage.band}")


def _checked_stage(values: StageValues, stage: GrowthStage | None) -> StageValues:
    name = values.name.strip()
    low, high = values.min_headcount, values.max_headcount
    problems = Problems()
    if not name:
        problems.add("name", "Give the stage a name.")
    problems.check_length("name", name, 120)
    if name and is_taken(GrowthStage, stage, name=name):
        problems.add("name", "Another stage has this name.")
    if not 0 <= low <= MAX_HEADCOUNT:
        problems.add("min_headcount", f"Give a whole number from 0 to {MAX_HEADCOUNT:,}.")
    elif high is not None and not 0 <= high <= MAX_HEADCOUNT:
        problems.add("max_headcount", f"Give a whole number from 0 to {MAX_HEADCOUNT:,}.")
    elif high is not None and high < low:
        problems.add("max_headcount", "Cannot be below the lower bound.")
    else:
        other = overlapping_stage(low, high, exclude_id=stage.id if stage else None)
        if other is not None:
            problems.add("max_headcount", f"Overlaps the stage “{other.name}” ({other.band}).")
    problems.raise_if_any(TeamError)
    return StageValues(name, low, high, values.description)
