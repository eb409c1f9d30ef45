"""Escaped guards: when a postmortem is a recurrence of an earlier one, the guard checks that
the earlier one's action items relied on and that were in place when the recurrence started
(active, and added before it started) are recorded as the guards the failure got past.

Recorded by the incident service whenever it sets `recurrence_of` (filing, editing, restoring
a revision); undone when `recurrence_of` is cleared or points elsewhere. While it stays the
same, what was recorded stays as it was, even if a guard is retired later.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, select, true

from models import ActionItem, EscapedGuard, GuardCheck, GuardStatus, Incident, User
from models.base import in_stored_range
from models.incident import action_item_guard
from postmortems.auth.access import sees_everything, visible_incidents
from postmortems.cache import cached
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


@dataclass(frozen=True)
class Escape:
    """A recurrence that got past the guard, and the earlier postmortem if the viewer may
    see it (None: shown as "a restricted postmortem")."""

    incident: Incident
    earlier: Incident | None


@dataclass(frozen=True)
class EscapeCount:
    """A guard's escapes that count: `shown` are the rows of its page's list for the viewer,
    `hidden` the recurrences counted that the viewer may not see."""

    shown: int = 0
    hidden: int = 0

    @property
    def total(self) -> int:
        return self.shown + self.hidden


def _counted(start: date | None, end: date | None) -> list[Any]:
    """The one rule for which escapes count, on the recurrence's own row (`Incident`): those
    the counting rule counts (drafts and near-misses in; excluded postmortems and external
    references out), started from `start` to `end` when a span is given."""
    where = [counts()]
    if start is not None and end is not None:
        where.append(_started_between(start, end))
    return where


def escapes_of_guard(
    guard: GuardCheck, viewer: User, start: date | None = None, end: date | None = None
) -> list[Escape]:
    """The escapes of this guard that count and whose recurrence `viewer` may see, newest
    first (from `start` to `end` when a span is given): as many as `escape_counts` says
    are shown."""
    # Most guards have none: one look along the index instead of the full query's building.
    if (
        session.scalar(
            select(EscapedGuard.id).where(EscapedGuard.guard_check_id == guard.id).limit(1)
        )
        is None
    ):
        return []
    stmt = (
        select(Incident, EscapedGuard.earlier_incident_id)
        .join(EscapedGuard, EscapedGuard.incident_id == Incident.id)
        .where(EscapedGuard.guard_check_id == guard.id, visible_incidents(viewer))
        .where(*_counted(start, end))
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    )
    rows = session.execute(stmt).all()
    earlier_ids = {earlier_id for _, earlier_id in rows}
    seen = {
        incident.id: incident
        for incident in session.scalars(
            select(Incident).where(Incident.id.in_(earlier_ids), visible_incidents(viewer))
        )
    }
    return [Escape(incident, seen.get(earlier_id)) for incident, earlier_id in rows]


def escape_counts(
    viewer: User | None,
    start: date | None = None,
    end: date | None = None,
    *,
    guard_id: int | None = None,
) -> dict[int, EscapeCount]:
    """Per guard with any (or just `guard_id`), its escapes that count (from `start` to
    `end` when a span is given), split into those `viewer` may see and those hidden from
    them (viewer None: a figure, every one shown). One GROUP BY; the figure, which an admin
    sees as it is, is kept until the data changes (a report asks for it twice: its totals
    and its reader's split)."""
    if viewer is None or sees_everything(viewer):
        return cached(
            ("escape_counts", start, end, guard_id),
            lambda: _escape_counts(true(), start, end, guard_id),
            viewer=None,
        )
    return _escape_counts(visible_incidents(viewer), start, end, guard_id)


def _escape_counts(
    seen: Any, start: date | None, end: date | None, guard_id: int | None
) -> dict[int, EscapeCount]:
    shown = func.sum(case((seen, 1), else_=0))
    stmt = (
        select(EscapedGuard.guard_check_id, shown, func.count())
        .join(Incident, Incident.id == EscapedGuard.incident_id)
        .where(*_counted(start, end))
        .group_by(EscapedGuard.guard_check_id)
    )
    if guard_id is not None:
        stmt = stmt.where(EscapedGuard.guard_check_id == guard_id)
    return {
        gid: EscapeCount(shown=int(n_shown), hidden=total - int(n_shown))
        for gid, n_shown, total in session.execute(stmt)
    }


def escaped_in_period(start: date, end: date) -> list[tuple[int, str, int]]:
    """(guard id, name, recurrences) for the escapes that count of recurrences that started
    from `start` to `end` (local days, both included), most escapes first: a report's
    figure, counting every postmortem whoever reads it (`escape_counts`' totals)."""
    totals = {gid: n.total for gid, n in escape_counts(None, start, end).items()}
    stmt = select(GuardCheck.id, GuardCheck.name).where(GuardCheck.id.in_(totals))
    names = {gid: name for gid, name in session.execute(stmt)}
    rows = [(gid, names[gid], n) for gid, n in totals.items()]
    return sorted(rows, key=lambda row: (-row[2], row[1]))


def _started_between(start: date, end: date) -> Any:
    """Started from the local day `start` to `end`; a bound beyond the stored range bounds
    nothing (the end of 2100Q4 could not be bound as a parameter)."""
    low, high = start_of_local_day(start), start_of_local_day(end + timedelta(days=1))
    return and_(
        Incident.started_at >= low if in_stored_range(low) else true(),
        Incident.started_at < high if in_stored_range(high) else true(),
    )
