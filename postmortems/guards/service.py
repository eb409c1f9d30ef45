"""Guard checks and what they protect."""

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import ActionItem, GuardCheck, Incident, User
from postmortems.auth.access import visible_incidents
from postmortems.db import session


def list_guards() -> Select[tuple[GuardCheck]]:
    """Return a select() of guard checks by name, with their action items loaded."""
    return (
        select(GuardCheck).options(selectinload(GuardCheck.action_items)).order_by(GuardCheck.name)
    )


def protected_incidents(guard: GuardCheck, viewer: User) -> list[Incident]:
    """The incidents `viewer` may see whose action items create or rely on this guard."""
    stmt = (
        select(Incident)
        .where(Incident.action_items.any(ActionItem.guards.any(GuardCheck.id == guard.id)))
        .where(visible_incidents(viewer))
        .order_by(Incident.started_at.desc())
    )
    return list(session.scalars(stmt))
