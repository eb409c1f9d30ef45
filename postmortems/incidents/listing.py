"""Incidents: the queries of the list, the search and the postmortem's page."""

from dataclasses import dataclass
from datetime import date

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
    User,
)
from models.base import in_stored_range
from models.incident import incident_tag
from postmortems.auth.access import visible_incidents
from postmortems.cache import cached
from postmortems.db import session
from postmortems.incidents.counting import Counting, counting_condition
from postmortems.incidents.fields import FIRST_YEAR, LAST_YEAR, IncidentError
from postmortems.incidents.order import incident_keyset, incidents_among, newest_first
from postmortems.teams.service import HeadcountOnDay, growth_periods, growth_timeline
from postmortems.timezones import local_date, start_of_local_day


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
