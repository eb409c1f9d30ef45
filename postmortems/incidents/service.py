"""Incidents: the one place where an incident is filed or changed.

Every write takes plain values, checks the domain rules and raises IncidentError naming the
fields; it flushes but never commits. Views, the CLI, the demo loader and the API all call
these functions. The values and their rules are in fields.py and the queries in listing.py;
both are re-exported here, where callers have always imported them from.
"""

from datetime import datetime

from sqlalchemy import or_, select

from models import ActionItem, Incident, IncidentStatus, User
from postmortems.audit.service import record_event
from postmortems.db import session
from postmortems.domain import Problems
from postmortems.guards.escapes import record_escapes
from postmortems.incidents import history
from postmortems.incidents.fields import (
    FIRST_YEAR,
    KEY_PATTERN,
    LAST_YEAR,
    MAX_TAG_LENGTH,
    PLAIN_FIELDS,
    TEXT_LIMITS,
    ExternalSource,
    IncidentError,
    IncidentValues,
    add_incident_problems,
    check_incident,
    check_key,
)
from postmortems.incidents.listing import (
    PAGE_OPTIONS,
    IncidentFilters,
    count_incidents,
    filter_conditions,
    growth_at_start,
    list_incidents,
    list_tags,
    load_incident_page,
    started_in_stage,
    started_in_year,
)
from postmortems.incidents.rows import (
    claim_incident_key,
    lock_incident,
    next_incident_key,
    set_tags,
)
from postmortems.timezones import local_date

__all__ = [
    "FIRST_YEAR",
    "KEY_PATTERN",
    "LAST_YEAR",
    "MAX_TAG_LENGTH",
    "PAGE_OPTIONS",
    "PLAIN_FIELDS",
    "TEXT_LIMITS",
    "ExternalSource",
    "IncidentError",
    "IncidentFilters",
    "IncidentValues",
    "add_incident_problems",
    "check_action_item_days",
    "check_incident",
    "count_incidents",
    "create_incident",
    "delete_incident",
    "filter_conditions",
    "growth_at_start",
    "list_incidents",
    "list_tags",
    "load_incident_page",
    "set_tags",
    "started_in_stage",
    "started_in_year",
    "update_incident",
]


def create_incident(
    values: IncidentValues,
    *,
    author: User | None,
    status: IncidentStatus = IncidentStatus.DRAFT,
    record: bool = True,
    key: str | None = None,
    key_kind: str = "PM",
    source: ExternalSource | None = None,
) -> Incident:
    """File a new incident (a draft unless told otherwise) under the next key of its year
    (`key_kind` "EXT" for external references: EXT-2019-001), or under `key` (an import
    keeping the keys it had: PM-2020-007). With `source` it is an external reference: another
    organisation's incident, whose start may be unknown or before 1970."""
    check_incident(values, incident=None, viewer=author, external=source is not None)
    if key is not None:
        check_key(key)
        claim_incident_key(key)
    incident = Incident(
        key=key or next_incident_key(values.started_at, key_kind),
        author_id=author.id if author else None,
        status=status,
        title=values.title,
        started_at=values.started_at,
    )
    if source is not None:
        incident.source_collection = source.collection
        incident.external_id = source.external_id[:200]
        incident.source_organisation = source.organisation[:200]
        incident.source_url = source.url[:1000]
    _apply(incident, values)
    session.add(incident)
    session.flush()
    if incident.recurrence_of_id is not None:  # a new incident has no escaped guards else
        record_escapes(incident)
    if record:
        history.record_change(incident, f"filed {incident.key}")
    return incident


def update_incident(
    incident: Incident,
    values: IncidentValues,
    *,
    editor: User | None,
    expected_version: int | None = None,
    record: bool = True,
    check_action_items: bool = True,
) -> None:
    """Change an incident's own fields; refused with ConflictError when `expected_version` (the
    version the editor started from) is no longer the saved one. A caller that changes the
    action items in the same change asks `check_action_item_days` after them instead
    (`check_action_items` False)."""
    lock_incident(incident, expected_version)
    check_incident(values, incident=incident, viewer=editor, external=incident.is_external)
    if check_action_items:
        check_action_item_days(incident, values.started_at)
    _apply(incident, values)
    session.flush()
    record_escapes(incident)
    if record:
        history.record_change(incident, "edited the postmortem")


def check_action_item_days(incident: Incident, started_at: datetime | None) -> None:
    """Refuse a start after the day one of the incident's action items was done or decided
    won't do, naming the item: the item's own rule (parts.py), asked from the other side."""
    if started_at is None:
        return
    start = local_date(started_at)
    items = session.execute(
        select(ActionItem.title, ActionItem.completed_on, ActionItem.decided_on)
        .where(
            ActionItem.incident_id == incident.id,
            or_(ActionItem.completed_on < start, ActionItem.decided_on < start),
        )
        .order_by(ActionItem.id)
    )
    problems = Problems()
    for title, completed_on, decided_on in items:
        if completed_on is not None and completed_on < start:
            what = f"was completed on {completed_on}"
        else:
            what = f"was decided won't do on {decided_on}"
        problems.add("started_at", f"The action item “{title}” {what}, before this start.")
    problems.raise_if_any(IncidentError)


def delete_incident(incident: Incident) -> None:
    """Delete an incident with every part, revision and comment."""
    record_event("deleted postmortem", "incident", incident.id, f"{incident.key} {incident.title}")
    session.delete(incident)
    session.flush()


def _apply(incident: Incident, values: IncidentValues) -> None:
    for name in PLAIN_FIELDS:
        setattr(incident, name, getattr(values, name))
    set_tags(incident, list(values.tags))
    ids = list(values.access_user_ids)
    incident.access_users = (
        list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    )
