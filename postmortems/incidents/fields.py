"""An incident's own fields: the values a person writes about it, and the rules they keep.

Every write of the service checks its values here (`check_incident`); the one-page form and
the API collect these problems with those of the parts (`add_incident_problems`).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from models import Incident, Severity, Team, User
from models.base import EARLIEST, LATEST, REFERENCE_EARLIEST, in_reference_range, in_stored_range
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.domain import DomainError, Problems
from postmortems.timezones import to_local

MAX_TAG_LENGTH = 60
# Years the list can filter by: the years a stored instant can fall in, in any zone.
FIRST_YEAR, LAST_YEAR = EARLIEST.year, LATEST.year


class IncidentError(DomainError):
    """A change to an incident or one of its parts that would break one of its rules."""


@dataclass(frozen=True)
class IncidentValues:
    """Everything a person writes about an incident itself (its parts come separately)."""

    title: str
    # None only for an external reference whose source states no start.
    started_at: datetime | None
    summary: str = ""
    severity: Severity = Severity.SEV3
    team_id: int | None = None
    affected_system: str = ""
    environment: str = ""
    started_is_estimated: bool = False
    detected_at: datetime | None = None
    detected_is_estimated: bool = False
    mitigated_at: datetime | None = None
    mitigated_is_estimated: bool = False
    resolved_at: datetime | None = None
    resolved_is_estimated: bool = False
    what_happened_md: str = ""
    analysis_md: str = ""
    detection_md: str = ""
    response_md: str = ""
    went_well_md: str = ""
    got_lucky_md: str = ""
    tags: tuple[str, ...] = ()
    is_near_miss: bool = False
    exclude_from_metrics: bool = False
    recurrence_of_id: int | None = None
    owner_id: int | None = None
    owner_name: str = ""
    is_restricted: bool = False
    access_user_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class ExternalSource:
    """Where an external reference postmortem comes from: another organisation's incident in
    a public collection ("icco", "moj"), found again there by `external_id`."""

    collection: str
    external_id: str
    organisation: str = ""
    url: str = ""


# Columns copied as they are from IncidentValues onto the incident.
PLAIN_FIELDS = [
    name for name in IncidentValues.__dataclass_fields__ if name not in ("tags", "access_user_ids")
]
TEXT_LIMITS = {
    "title": 200,
    "summary": 300,
    "affected_system": 200,
    "environment": 60,
    "owner_name": 120,
}


def check_incident(
    values: IncidentValues, *, incident: Incident | None, viewer: User | None, external: bool
) -> None:
    """Raise IncidentError naming every field of `values` that breaks a rule. Our own
    incidents need a start within 1970–2100; an `external` reference's source may state none,
    or one back to the year 1000."""
    problems = Problems()
    add_incident_problems(problems, values, incident=incident, viewer=viewer, external=external)
    problems.raise_if_any(IncidentError)


def add_incident_problems(
    problems: Problems,
    values: IncidentValues,
    *,
    incident: Incident | None,
    viewer: User | None,
    external: bool,
) -> None:
    """Add every rule of the incident's own fields that `values` breaks to `problems`: the
    checks of `check_incident`, collected with those of its parts (a new rule is one more
    check here)."""
    if not values.title.strip():
        problems.add("title", "Give the postmortem a title.")
    for name, limit in TEXT_LIMITS.items():
        problems.check_length(name, getattr(values, name), limit)
    _check_times(values, problems, external)
    for tag in values.tags:
        if len(tag) > MAX_TAG_LENGTH:
            problems.add("tags", f"Each tag can be at most {MAX_TAG_LENGTH} characters.")
            break
    if values.team_id is not None and session.get(Team, values.team_id) is None:
        problems.add("team_id", "No such team.")
    if values.owner_id is not None and not _is_active_user(values.owner_id):
        problems.add("owner_id", "No such person.")
    missing = set(values.access_user_ids) - _existing_user_ids(values.access_user_ids)
    if missing:
        problems.add("access_user_ids", "Some of these people no longer exist.")
    if values.recurrence_of_id is not None:
        _check_recurrence(values.recurrence_of_id, incident, viewer, problems)


KEY_PATTERN = re.compile(r"[A-Z]{2,8}-[0-9]{4}-[0-9]{3,6}")


def check_key(key: str) -> None:
    """Refuse a key that does not look like one or is already another postmortem's."""
    problems = Problems()
    if not KEY_PATTERN.fullmatch(key):
        problems.add("key", "A key looks like PM-2020-007.")
    elif session.scalar(select(Incident.id).where(Incident.key == key)) is not None:
        problems.add("key", f"{key} is the key of another postmortem.")
    problems.raise_if_any(IncidentError)


def _check_times(values: IncidentValues, problems: Problems, external: bool) -> None:
    times = {
        "started_at": values.started_at,
        "detected_at": values.detected_at,
        "mitigated_at": values.mitigated_at,
        "resolved_at": values.resolved_at,
    }
    if values.started_at is None and not external:
        problems.add("started_at", "When did it start?")
    in_range, first_year = (
        (in_reference_range, REFERENCE_EARLIEST.year) if external else (in_stored_range, FIRST_YEAR)
    )
    for name, value in times.items():
        if value is not None and not in_range(value):
            problems.add(name, f"Choose a time from {first_year} to {LAST_YEAR}.")
    if any(problems.has(name) for name in times):
        return  # the order of times is read once each of them is one
    order = [
        ("detected_at", "started_at", "the start"),
        ("mitigated_at", "detected_at", "detection"),
        ("mitigated_at", "started_at", "the start"),
        ("resolved_at", "mitigated_at", "mitigation"),
        ("resolved_at", "started_at", "the start"),
    ]
    for later, earlier, what in order:
        late, early = times[later], times[earlier]
        if late is not None and early is not None and late < early:
            problems.add(later, f"Cannot be before {what} ({_shown(early)}).")


def _shown(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _check_recurrence(
    recurrence_of_id: int, incident: Incident | None, viewer: User | None, problems: Problems
) -> None:
    if incident is not None and recurrence_of_id == incident.id:
        problems.add("recurrence_of_id", "A postmortem cannot be a recurrence of itself.")
        return
    stmt = select(Incident.id).where(Incident.id == recurrence_of_id)
    # A link the editor cannot see stays as it was; only a new one must be visible to them.
    unchanged = incident is not None and recurrence_of_id == incident.recurrence_of_id
    if viewer is not None and not unchanged:
        stmt = stmt.where(visible_incidents(viewer))
    if session.scalar(stmt) is None:
        problems.add("recurrence_of_id", "No such postmortem.")


def _is_active_user(user_id: int) -> bool:
    return session.scalar(select(User.id).where(User.id == user_id, User.is_active)) is not None


def _existing_user_ids(user_ids: tuple[int, ...]) -> set[int]:
    if not user_ids:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
