"""Teams, headcount snapshots and growth stages, and the company's headcount on a given day."""

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import GrowthStage, HeadcountSnapshot, Team
from postmortems.db import session


class TeamError(Exception):
    """A team, snapshot or stage change that would break a rule."""


def list_teams() -> Select[tuple[Team]]:
    """Teams by name, with their headcount counts loaded in one extra query."""
    return select(Team).options(selectinload(Team.snapshots)).order_by(Team.name)


def list_stages() -> Select[tuple[GrowthStage]]:
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
class HeadcountOnDay:
    """The company's headcount on one day: the sum of each team's latest snapshot by then."""

    on_date: date
    total: int
    by_team: dict[str, int]
    stage: GrowthStage | None


class GrowthTimeline:
    """Every team's snapshots and the stages, loaded once, to answer many days cheaply."""

    def __init__(self) -> None:
        self.stages = list(session.scalars(list_stages()))
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

    def on(self, day: date) -> HeadcountOnDay | None:
        """The headcount on `day`, or None when no team had a snapshot yet."""
        by_team = {}
        for team_name, dates in self._dates.items():
            i = bisect.bisect_right(dates, day)
            if i:
                by_team[team_name] = self._counts[team_name][i - 1]
        if not by_team:
            return None
        total = sum(by_team.values())
        stage = next((s for s in self.stages if s.contains(total)), None)
        return HeadcountOnDay(on_date=day, total=total, by_team=by_team, stage=stage)
