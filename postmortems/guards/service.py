"""Guard checks and what they protect."""

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import GuardCheck, GuardStatus, Incident
from postmortems.db import session


def list_guards(*, status: GuardStatus | None = None) -> Select[tuple[GuardCheck]]:
    """Return a select() of guard checks by name, with their action items loaded."""
    stmt = (
        select(GuardCheck).options(selectinload(GuardCheck.action_items)).order_by(GuardCheck.name)
    )
    return stmt if status is None else stmt.where(GuardCheck.status == status)


def protected_incidents(guard: GuardCheck) -> list[Incident]:
    """The incidents whose action items create or rely on this guard, newest first."""
    incidents = {item.incident.id: item.incident for item in guard.action_items}
    return sorted(incidents.values(), key=lambda i: i.started_at, reverse=True)


def name_taken(name: str, *, exclude_id: int | None = None) -> bool:
    stmt = select(GuardCheck.id).where(GuardCheck.name == name)
    if exclude_id is not None:
        stmt = stmt.where(GuardCheck.id != exclude_id)
    return session.scalar(stmt) is not None
