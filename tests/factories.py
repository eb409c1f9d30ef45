"""Small builders for test data; they add and flush, the test commits when it needs to."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from models import ContributingFactor, GrowthStage, GuardCheck, GuardKind, HeadcountSnapshot, Team
from postmortems.db import session
from postmortems.incidents.service import IncidentValues, create_incident


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_incident(
    title: str = "Queue stalled", started_at: datetime | None = None, **fields: Any
) -> Any:
    """An incident filed through the service; fields it does not take (status, author_id,
    team…) are set on the row afterwards, so tests can arrange any state."""
    names = IncidentValues.__dataclass_fields__
    values = {
        k: tuple(v) if k in ("tags", "access_user_ids") else v
        for k, v in fields.items()
        if k in names
    }
    incident = create_incident(
        IncidentValues(title=title, started_at=started_at or utc(2024, 3, 1, 10), **values),
        author=None,
        record=False,
    )
    for name, value in fields.items():
        if name not in names:
            setattr(incident, name, value)
    session.flush()
    return incident


def make_team(name: str = "Platform", counts: list[tuple[date, int]] = ()) -> Team:
    team = Team(name=name)
    team.snapshots = [HeadcountSnapshot(on_date=d, headcount=n) for d, n in counts]
    session.add(team)
    session.flush()
    return team


def make_stage(name: str, low: int, high: int | None) -> GrowthStage:
    stage = GrowthStage(name=name, min_headcount=low, max_headcount=high)
    session.add(stage)
    session.flush()
    return stage


def make_guard(name: str = "Smoke test", kind: GuardKind = GuardKind.AUTOMATED_TEST) -> GuardCheck:
    guard = GuardCheck(name=name, kind=kind)
    session.add(guard)
    session.flush()
    return guard


def factor_named(name: str) -> ContributingFactor:
    return session.scalars(select(ContributingFactor).where(ContributingFactor.name == name)).one()
