"""Incidents: queries, and the one place where an incident is filed or changed.

Every write takes plain values, checks the domain rules and raises IncidentError naming the
fields; it flushes but never commits. Views, the CLI, the demo loader and (later) the API all
call these functions.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from models import (
    ActionItem,
    CauseCategory,
    ContributingFactor,
    Incident,
    IncidentFactor,
    IncidentStatus,
    ReviewComment,
    Severity,
    Tag,
    Team,
    User,
)
from models.base import EARLIEST, LATEST, REFERENCE_EARLIEST, in_reference_range, in_stored_range
from models.incident import incident_tag
from postmortems.audit.service import record_event
from postmortems.auth.access import visible_incidents
from postmortems.cache import cached
from postmortems.db import session
from postmortems.domain import DomainError, Problems
from postmortems.guards.escapes import record_escapes
from postmortems.incidents import history
from postmortems.incidents.counting import Counting, counting_condition
from postmortems.incidents.order import incident_keyset, incidents_among, newest_first
from postmortems.incidents.rows import (
    claim_incident_key,
    lock_incident,
    next_incident_key,
    set_tags,
)
from postmortems.teams.service import HeadcountOnDay, growth_periods, growth_timeline
from postmortems.timezones import local_date, start_of_local_day, to_local

MAX_TAG_LENGTH = 60
# Years the list can filter by: the years a stored instant can fall in, in any zone.
FIRST_YEAR, LAST_YEAR = EARLIEST.year, LATEST.year


class IncidentError(DomainError):
    """A change to an incident or one of its parts that would break one of its rules."""


@dataclass(frozen=True)
class IncidentFilters:
    status: IncidentStatus | None = None
    severity: Severity | None = None
    category: CauseCategory | None = None
    factor_id: int | None = None
    team_id: int | None = None
    stage_id: int | None = None
    year: int | None = None
    tag: str | None = None
    counting: Counting | None = None
    # Our own postmortems (False), only the external references imported from public
    # collections (True), or both (None: for search and reading paths, never for counts).
    external: bool | None = False


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


# Everything the postmortem's page shows, loaded with it in a fixed handful of queries.
PAGE_OPTIONS = [
    selectinload(Incident.team),
    selectinload(Incident.author),
    selectinload(Incident.owner),
    selectinload(Incident.access_users),
    selectinload(Incident.recurrence_of),
    selectinload(Incident.tags),
    selectinload(Incident.timeline),
    selectinload(Incident.factors).selectinload(IncidentFactor.factor),
    selectinload(Incident.impacts),
    selectinload(Incident.lessons),
    selectinload(Incident.action_items).selectinload(ActionItem.guards),
    selectinload(Incident.action_items).selectinload(ActionItem.owner_user),
    selectinload(Incident.review_comments).selectinload(ReviewComment.user),
]


def load_incident_page(incident_id: int) -> Incident:
    """The incident with everything its page shows, in a fixed handful of queries."""
    stmt = (
        select(Incident)
        .where(Incident.id == incident_id)
        .options(*PAGE_OPTIONS)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()


def list_incidents(
    viewer: User, filters: IncidentFilters = IncidentFilters(), *, many: bool = False
) -> Select[Incident]:
    """Return a select() of the incidents `viewer` may see that match `filters`, newest first.

    The filters on related rows take one of two forms. By default they are uncorrelated
    `IN (subquery)`s: the matching ids are read once through an index, which suits counting
    and small results. With `many` (thousands match: see `count_incidents`), the query walks
    the newest-first index and checks each incident with a correlated EXISTS until a page is
    full, instead of collecting every match to sort it.
    """
    stmt = (
        select(Incident)
        .options(selectinload(Incident.team))  # the list shows each team: no query per row
        .where(visible_incidents(viewer))
        .order_by(*incident_keyset(external=filters.external).newest_first())
    )
    stmt = newest_first(stmt, many)
    return stmt.where(*filter_conditions(filters, many=many))


def filter_conditions(filters: IncidentFilters, *, many: bool = False) -> list[ColumnElement[bool]]:
    """The SQL conditions `filters` stand for, without visibility: whoever asks adds who may
    see what through `auth.access` (search asks it of each match instead). With `many`, the
    filters on related rows are correlated EXISTS (see `list_incidents`)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.external is not None:
        conditions.append(
            Incident.source_collection.is_not(None)
            if filters.external
            else Incident.source_collection.is_(None)
        )
    if filters.status is not None:
        conditions.append(Incident.status == filters.status)
    if filters.severity is not None:
        conditions.append(Incident.severity == filters.severity)
    if filters.team_id is not None:
        conditions.append(Incident.team_id == filters.team_id)
    if filters.factor_id is not None:
        named = select(IncidentFactor.incident_id).where(
            IncidentFactor.factor_id == filters.factor_id
        )
        conditions.append(incidents_among(named, IncidentFactor.incident_id, many))
    if filters.category is not None:
        in_category = (
            select(IncidentFactor.incident_id)
            .join(ContributingFactor, ContributingFactor.id == IncidentFactor.factor_id)
            .where(ContributingFactor.category == filters.category)
        )
        conditions.append(incidents_among(in_category, IncidentFactor.incident_id, many))
    if filters.tag:
        tagged = (
            select(incident_tag.c.incident_id)
            .join(Tag, Tag.id == incident_tag.c.tag_id)
            .where(Tag.name == filters.tag.strip().lower())
        )
        conditions.append(incidents_among(tagged, incident_tag.c.incident_id, many))
    if filters.counting is not None:
        conditions.append(counting_condition(filters.counting))
    if filters.year is not None:
        conditions.append(started_in_year(filters.year))
    if filters.stage_id is not None:
        conditions.append(started_in_stage(filters.stage_id))
    return conditions


def count_incidents(viewer: User, filters: IncidentFilters = IncidentFilters()) -> int:
    """How many incidents `viewer` may see match `filters`; kept until the data changes."""

    def count() -> int:
        matching = list_incidents(viewer, filters).order_by(None).subquery()
        return session.scalar(select(func.count()).select_from(matching)) or 0

    return cached(("incident_count", filters), count, viewer=viewer)


def started_in_year(year: int) -> ColumnElement[bool]:
    """Incidents that started in the given calendar year of the team's zone."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise IncidentError(fields={"year": [f"Choose a year from {FIRST_YEAR} to {LAST_YEAR}."]})
    # The bounds are local midnights, in UTC; one beyond the stored range bounds nothing (and
    # could not be bound as a parameter): 2100's end, or 1970's start east of Greenwich.
    start = start_of_local_day(date(year, 1, 1))
    end = start_of_local_day(date(year + 1, 1, 1))
    return and_(
        Incident.started_at >= start if in_stored_range(start) else true(),
        Incident.started_at < end if in_stored_range(end) else true(),
    )


def started_in_stage(stage_id: int) -> ColumnElement[bool]:
    """Incidents that started while the company was in the given growth stage: one date range
    per growth period (a few at most), in the team's zone."""
    ranges = [
        and_(
            Incident.started_at >= start_of_local_day(period.start),
            Incident.started_at < start_of_local_day(period.end)
            if period.end is not None
            else true(),
        )
        for period in growth_periods(stage_id)
    ]
    return or_(*ranges) if ranges else false()


def growth_at_start(incident: Incident) -> HeadcountOnDay | None:
    """The company's headcount and growth stage on the day the incident started (None when
    its start is unknown)."""
    if incident.started_at is None:
        return None
    return growth_timeline().on(local_date(incident.started_at))


def list_tags(viewer: User) -> list[str]:
    """Names of the tags on incidents `viewer` may see, alphabetically.

    Tags are few: each is probed through the tag index for one incident the viewer may see,
    instead of reading every tag link. Kept per viewer until the data changes.
    """

    def names() -> tuple[str, ...]:
        visible_use = (
            select(incident_tag.c.incident_id)
            .join(Incident, Incident.id == incident_tag.c.incident_id)
            .where(incident_tag.c.tag_id == Tag.id, visible_incidents(viewer))
            .exists()
        )
        return tuple(session.scalars(select(Tag.name).where(visible_use).order_by(Tag.name)))

    return list(cached(("tags",), names, viewer=viewer))


# Writes.


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
        _check_key(key)
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


def _check_key(key: str) -> None:
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


def _apply(incident: Incident, values: IncidentValues) -> None:
    for name in PLAIN_FIELDS:
        setattr(incident, name, getattr(values, name))
    set_tags(incident, list(values.tags))
    ids = list(values.access_user_ids)
    incident.access_users = (
        list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    )
