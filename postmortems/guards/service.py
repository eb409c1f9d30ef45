"""Guard checks and what they protect; the one place where a guard check is added or changed."""

from dataclasses import dataclass, fields

from sqlalchemy import Select, func, select

from models import ActionItem, GuardCheck, GuardKind, GuardStatus, Incident, User
from models.guard import DEFAULT_FRESHNESS_DAYS, MAX_FRESHNESS_DAYS
from models.incident import action_item_guard
from postmortems.audit.service import record_event
from postmortems.auth.access import visible_incidents
from postmortems.cache import cached
from postmortems.db import is_taken, session
from postmortems.domain import DomainError, Problems
from postmortems.incidents.order import incident_keyset, incidents_among, newest_first


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
    freshness_days: int = DEFAULT_FRESHNESS_DAYS


def list_guards() -> Select[GuardCheck]:
    """Return a select() of guard checks by name."""
    return select(GuardCheck).order_by(GuardCheck.name)


def action_item_counts() -> dict[int, int]:
    """How many action items link to each guard check (guards without any are left out).

    One GROUP BY over the guard index, kept until the data changes.
    """

    def count() -> dict[int, int]:
        guard_id = action_item_guard.c.guard_check_id
        rows = session.execute(select(guard_id, func.count()).group_by(guard_id))
        return {guard: links for guard, links in rows}

    return cached(("guard_action_item_counts",), count, viewer=None)


# External references may be linked too: those of unknown start come last.
GUARD_INCIDENTS = incident_keyset(external=None)


def protected_incidents(guard: GuardCheck, viewer: User, *, many: bool = False) -> Select[Incident]:
    """A select() of the incidents `viewer` may see whose action items create or rely on this
    guard, newest first, ready to paginate (`many`: as for the incident list)."""
    linked = (
        select(ActionItem.incident_id)
        .join(action_item_guard, action_item_guard.c.action_item_id == ActionItem.id)
        .where(action_item_guard.c.guard_check_id == guard.id)
    )
    stmt = (
        select(Incident)
        .where(incidents_among(linked, ActionItem.incident_id, many), visible_incidents(viewer))
        .order_by(*GUARD_INCIDENTS.newest_first())
    )
    return newest_first(stmt, many)


def count_protected(guard: GuardCheck, viewer: User) -> int:
    """How many incidents `viewer` may see this guard protects; kept until the data changes."""

    def count() -> int:
        protected = protected_incidents(guard, viewer).subquery()
        return session.scalar(select(func.count()).select_from(protected)) or 0

    return cached(("guard_protects", guard.id), count, viewer=viewer)


def linked_action_items(guard: GuardCheck, incident_ids: list[int]) -> dict[int, list[ActionItem]]:
    """The action items of the given incidents that link to this guard, by incident id: one
    query for a page of incidents, whatever the guard's history."""
    # From the page's few incidents to their action items, each checked for this guard: not
    # from the guard to its thousands of links.
    links_this_guard = (
        select(action_item_guard.c.action_item_id)
        .where(
            action_item_guard.c.action_item_id == ActionItem.id,
            action_item_guard.c.guard_check_id == guard.id,
        )
        .exists()
    )
    stmt = (
        select(ActionItem)
        .where(ActionItem.incident_id.in_(incident_ids), links_this_guard)
        .order_by(ActionItem.id)
    )
    by_incident: dict[int, list[ActionItem]] = {i: [] for i in incident_ids}
    for item in session.scalars(stmt):
        by_incident[item.incident_id].append(item)
    return by_incident


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
    if not 1 <= values.freshness_days <= MAX_FRESHNESS_DAYS:
        problems.add(
            "freshness_days", f"Give a whole number of days from 1 to {MAX_FRESHNESS_DAYS}."
        )
    if name and is_taken(GuardCheck, guard, name=name):
        problems.add("name", "Another guard check has this name.")
    problems.raise_if_any(GuardError)
    return GuardValues(
        name=name,
        kind=values.kind,
        location=values.location.strip(),
        description_md=values.description_md,
        owner=values.owner.strip(),
        status=values.status,
        freshness_days=values.freshness_days,
    )
