"""Escaped guards: when a postmortem is a recurrence of an earlier one, the guard checks that
the earlier one's action items relied on and that were in place when the recurrence started
(active, and added before it started) are recorded as the guards the failure got past.

Recorded by the incident service whenever it sets `recurrence_of` (filing, editing, restoring
a revision); undone when `recurrence_of` is cleared or points elsewhere. While it stays the
same, what was recorded stays as it was, even if a guard is retired later.
"""

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, delete, func, inspect, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter

from models import ActionItem, EscapedGuard, GuardCheck, GuardStatus, Incident, User
from models.incident import action_item_guard
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.incidents.counting import counts
from postmortems.timezones import start_of_local_day


def record_escapes(incident: Incident) -> None:
    """Bring the incident's escaped guards in line with what it is a recurrence of."""
    recorded = session.execute(
        select(EscapedGuard.earlier_incident_id).where(EscapedGuard.incident_id == incident.id)
    ).scalars()
    earlier_ids = set(recorded)
    if incident.recurrence_of_id is not None and earlier_ids == {incident.recurrence_of_id}:
        return  # recorded when it was marked; kept as it was
    if earlier_ids:
        session.execute(delete(EscapedGuard).where(EscapedGuard.incident_id == incident.id))
    if incident.recurrence_of_id is None:
        return
    guard_ids = session.scalars(
        select(GuardCheck.id)
        .join(action_item_guard, action_item_guard.c.guard_check_id == GuardCheck.id)
        .join(ActionItem, ActionItem.id == action_item_guard.c.action_item_id)
        .where(
            ActionItem.incident_id == incident.recurrence_of_id,
            GuardCheck.status == GuardStatus.ACTIVE,
            GuardCheck.created_at < incident.started_at,
        )
        .distinct()
        .order_by(GuardCheck.id)
    )
    session.add_all(
        EscapedGuard(
            incident_id=incident.id,
            guard_check_id=guard_id,
            earlier_incident_id=incident.recurrence_of_id,
        )
        for guard_id in guard_ids
    )
    session.flush()


def escaped_guards_of(incident_id: int) -> list[GuardCheck]:
    """The guards this postmortem's failure got past, by name."""
    return list(
        session.scalars(
            select(GuardCheck)
            .join(EscapedGuard, EscapedGuard.guard_check_id == GuardCheck.id)
            .where(EscapedGuard.incident_id == incident_id)
            .order_by(GuardCheck.name)
        )
    )


def escapes_of_guard(guard: GuardCheck, viewer: User) -> list[tuple[Incident, Incident]]:
    """(recurrence, earlier postmortem) pairs that got past this guard, newest first, both of
    which `viewer` may see."""
    # Most guards have none: one look along the index instead of the full query's building.
    if (
        session.scalar(
            select(EscapedGuard.id).where(EscapedGuard.guard_check_id == guard.id).limit(1)
        )
        is None
    ):
        return []
    earlier = aliased(Incident)
    stmt = (
        select(Incident, earlier)
        .join(EscapedGuard, EscapedGuard.incident_id == Incident.id)
        .join(earlier, earlier.id == EscapedGuard.earlier_incident_id)
        .where(
            EscapedGuard.guard_check_id == guard.id,
            visible_incidents(viewer),
            _visible(earlier, viewer),
        )
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def _visible(alias: Any, viewer: User) -> Any:
    """`visible_incidents` for an aliased incident: the same condition on the alias's columns
    (not `alias.id IN (every incident the viewer sees)`, a scan of them all)."""
    return ClauseAdapter(inspect(alias).selectable).traverse(visible_incidents(viewer))


def escaped_in_period(start: date, end: date) -> list[tuple[int, str, int]]:
    """(guard id, name, recurrences) for the escapes of recurrences that started from `start`
    to `end` (local days, both included), most escapes first: a report's figure, counting
    every postmortem whoever reads it."""
    stmt = (
        select(GuardCheck.id, GuardCheck.name, func.count(EscapedGuard.id))
        .join(EscapedGuard, EscapedGuard.guard_check_id == GuardCheck.id)
        .join(Incident, Incident.id == EscapedGuard.incident_id)
        .where(_started_between(start, end), counts())
        .group_by(GuardCheck.id, GuardCheck.name)
        .order_by(func.count(EscapedGuard.id).desc(), GuardCheck.name)
    )
    return [(guard_id, name, count) for guard_id, name, count in session.execute(stmt)]


def _started_between(start: date, end: date) -> Any:
    from datetime import timedelta

    return and_(
        Incident.started_at >= start_of_local_day(start),
        Incident.started_at < start_of_local_day(end + timedelta(days=1)),
    )


def escape_counts() -> Select[int, int]:
    """A select() of (guard id, recurrences escaped), for every guard with any."""
    return select(EscapedGuard.guard_check_id, func.count()).group_by(EscapedGuard.guard_check_id)
