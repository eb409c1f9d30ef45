"""Guard checks and what they protect; the one place where a guard check is added or changed."""

from dataclasses import dataclass, fields

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import ActionItem, GuardCheck, GuardKind, GuardStatus, Incident, User
from postmortems.audit.service import record_event
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.domain import DomainError, Problems


class GuardError(DomainError):
    """A guard check change that would break a rule."""


@dataclass(frozen=True)
class GuardValues:
    name: str
    kind: GuardKind
    location: str = ""
    description_md: str = ""
    owner: str = ""
    status: GuardStatus = GuardStatus.PROPOSED


def list_guards() -> Select[GuardCheck]:
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


def create_guard(values: GuardValues) -> GuardCheck:
    """Add a guard check."""
    values = _checked(values, guard=None)
    guard = GuardCheck(**{f.name: getattr(values, f.name) for f in fields(values)})
    session.add(guard)
    session.flush()
    record_event("added guard check", "guard_check", guard.id, guard.name)
    return guard


def update_guard(guard: GuardCheck, values: GuardValues) -> None:
    """Change a guard check."""
    values = _checked(values, guard=guard)
    for f in fields(values):
        setattr(guard, f.name, getattr(values, f.name))
    session.flush()
    record_event("edited guard check", "guard_check", guard.id, guard.name)


def _checked(values: GuardValues, *, guard: GuardCheck | None) -> GuardValues:
    """The values with their names trimmed, or GuardError naming what is wrong."""
    name = values.name.strip()
    problems = Problems()
    if not name:
        problems.add("name", "Give the guard check a name.")
    problems.check_length("name", name, 200)
    problems.check_length("location", values.location, 500)
    problems.check_length("owner", values.owner, 120)
    taken = select(GuardCheck.id).where(GuardCheck.name == name)
    if guard is not None:
        taken = taken.where(GuardCheck.id != guard.id)
    if name and session.scalar(taken) is not None:
        problems.add("name", "Another guard check has this name.")
    problems.raise_if_any(GuardError)
    return GuardValues(
        name=name,
        kind=values.kind,
        location=values.location.strip(),
        description_md=values.description_md,
        owner=values.owner.strip(),
        status=values.status,
    )
