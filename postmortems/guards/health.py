"""Guard health: the guards that fail or went stale, and the overdue action items, at one
instant. `flask guards check` prints it; the API serves `to_json()` at /api/v1/guards/health."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from models import ActionItem, ActionStatus, GuardCheck, GuardStatus, Incident, User
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.guards.runs import GuardState, facts_query, instant
from postmortems.timezones import local_date

OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
OVERDUE_LIMIT = 100  # overdue action items listed; all are counted


@dataclass(frozen=True)
class GuardHealthRow:
    id: int
    name: str
    owner: str
    status: GuardStatus
    state: GuardState
    freshness_days: int
    last_run_at: datetime | None
    last_pass_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "status": self.status.name,
            "state": self.state.name,
            "freshness_days": self.freshness_days,
            "last_run_at": _iso(self.last_run_at),
            "last_pass_at": _iso(self.last_pass_at),
        }


@dataclass(frozen=True)
class OverdueItem:
    id: int
    title: str
    owner: str
    due_on: date
    incident_id: int
    incident_key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "owner": self.owner,
            "due_on": self.due_on.isoformat(),
            "postmortem": self.incident_key,
        }


@dataclass(frozen=True)
class GuardsHealth:
    """Failing and stale guards (retired ones left out) and overdue action items at `as_of`;
    an action item is overdue when neither done nor won't do and due before as_of's local day."""

    as_of: datetime
    failing: tuple[GuardHealthRow, ...]
    stale: tuple[GuardHealthRow, ...]
    never_verified: int
    overdue_action_items: tuple[OverdueItem, ...]
    overdue_total: int

    @property
    def is_clean(self) -> bool:
        return not (self.failing or self.stale or self.overdue_total)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": _iso(self.as_of),
            "clean": self.is_clean,
            "failing": [row.to_json() for row in self.failing],
            "stale": [row.to_json() for row in self.stale],
            "never_verified": self.never_verified,
            "overdue_action_items": [item.to_json() for item in self.overdue_action_items],
            "overdue_action_items_total": self.overdue_total,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def guard_rows(as_of: datetime, states: tuple[GuardState, ...]) -> list[GuardHealthRow]:
    """Guards in one of `states` at `as_of`, retired ones left out, by name: one query."""
    facts = facts_query(as_of).subquery()
    stmt = (
        select(GuardCheck, facts)
        .join(facts, facts.c.guard_id == GuardCheck.id)
        .where(
            facts.c.state.in_([s.name for s in states]), GuardCheck.status != GuardStatus.RETIRED
        )
        .order_by(GuardCheck.name)
    )
    return [
        GuardHealthRow(
            id=row.GuardCheck.id,
            name=row.GuardCheck.name,
            owner=row.GuardCheck.owner,
            status=row.GuardCheck.status,
            state=GuardState[row.state],
            freshness_days=row.GuardCheck.freshness_days,
            last_run_at=row.last_run_at,
            last_pass_at=row.last_pass_at,
        )
        for row in session.execute(stmt)
    ]


def overdue_action_items(as_of: datetime, viewer: User | None) -> Select[ActionItem, str]:
    """A select() of (action item, incident key) overdue at `as_of`, soonest due first, among
    the incidents `viewer` may see (all of them for None: the shell)."""
    stmt = (
        select(ActionItem, Incident.key)
        .options(selectinload(ActionItem.owner_user))
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(ActionItem.status.in_(OPEN_STATUSES), ActionItem.due_on < local_date(as_of))
        .order_by(ActionItem.due_on, ActionItem.id)
    )
    return stmt if viewer is None else stmt.where(visible_incidents(viewer))


def guards_health(
    as_of: datetime, viewer: User | None = None, *, limit: int = OVERDUE_LIMIT
) -> GuardsHealth:
    """What `flask guards check` and GET /api/v1/guards/health report."""
    as_of = instant(as_of)
    rows = guard_rows(as_of, (GuardState.FAILING, GuardState.STALE, GuardState.NEVER_VERIFIED))
    overdue = overdue_action_items(as_of, viewer)
    total = session.scalar(select(func.count()).select_from(overdue.order_by(None).subquery()))
    items = tuple(
        OverdueItem(
            id=item.id,
            title=item.title,
            owner=item.owner_label,
            due_on=item.due_on,
            incident_id=item.incident_id,
            incident_key=key,
        )
        for item, key in session.execute(overdue.limit(limit))
        if item.due_on is not None
    )
    return GuardsHealth(
        as_of=as_of,
        failing=tuple(r for r in rows if r.state is GuardState.FAILING),
        stale=tuple(r for r in rows if r.state is GuardState.STALE),
        never_verified=sum(1 for r in rows if r.state is GuardState.NEVER_VERIFIED),
        overdue_action_items=items,
        overdue_total=total or 0,
    )
