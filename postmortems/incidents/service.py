"""Incidents and their parts: queries and the rules that keep them consistent."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from models import (
    CauseCategory,
    ContributingFactor,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Severity,
    Tag,
    User,
)
from models.incident import incident_tag
from postmortems.auth.access import visible_incidents
from postmortems.db import session
from postmortems.teams.service import GrowthTimeline, HeadcountOnDay
from postmortems.timezones import local_date, start_of_local_day


class IncidentError(Exception):
    """A change to an incident that would break one of its rules."""


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


def list_incidents(
    viewer: User, filters: IncidentFilters = IncidentFilters()
) -> Select[tuple[Incident]]:
    """Return a select() of the incidents `viewer` may see that match `filters`, newest first."""
    stmt = (
        select(Incident)
        .options(selectinload(Incident.team))  # the list shows each team: no query per row
        .where(visible_incidents(viewer))
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    )
    if filters.status is not None:
        stmt = stmt.where(Incident.status == filters.status)
    if filters.severity is not None:
        stmt = stmt.where(Incident.severity == filters.severity)
    if filters.team_id is not None:
        stmt = stmt.where(Incident.team_id == filters.team_id)
    if filters.factor_id is not None:
        stmt = stmt.where(Incident.factors.any(IncidentFactor.factor_id == filters.factor_id))
    if filters.category is not None:
        stmt = stmt.where(
            Incident.factors.any(
                IncidentFactor.factor.has(ContributingFactor.category == filters.category)
            )
        )
    if filters.tag:
        stmt = stmt.where(Incident.tags.any(Tag.name == filters.tag.strip().lower()))
    if filters.year is not None:
        # Years are the team's calendar years, so the bounds are local midnights in UTC.
        stmt = stmt.where(
            Incident.started_at >= start_of_local_day(date(filters.year, 1, 1)),
            Incident.started_at < start_of_local_day(date(filters.year + 1, 1, 1)),
        )
    if filters.stage_id is not None:
        stmt = stmt.where(Incident.id.in_(incident_ids_in_stage(filters.stage_id)))
    return stmt


def incident_ids_in_stage(stage_id: int) -> list[int]:
    """Ids of the incidents that started while the company was in the given growth stage."""
    timeline = GrowthTimeline()
    ids = []
    for incident_id, started_at in session.execute(select(Incident.id, Incident.started_at)):
        growth = timeline.on(local_date(started_at))
        if growth is not None and growth.stage is not None and growth.stage.id == stage_id:
            ids.append(incident_id)
    return ids


def growth_at_start(incident: Incident) -> HeadcountOnDay | None:
    """The company's headcount and growth stage on the day the incident started."""
    return GrowthTimeline().on(local_date(incident.started_at))


def next_incident_key(started_at: datetime) -> str:
    """The next free key for the incident's start year: PM-2020-001, PM-2020-002, ..."""
    prefix = f"PM-{local_date(started_at).year}-"
    keys = session.scalars(select(Incident.key).where(Incident.key.startswith(prefix)))
    numbers = [int(k.removeprefix(prefix)) for k in keys if k.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def create_incident(*, title: str, started_at: datetime, **fields: object) -> Incident:
    """Add a new incident with the next key for its start year."""
    incident = Incident(
        key=next_incident_key(started_at), title=title, started_at=started_at, **fields
    )
    session.add(incident)
    session.flush()
    return incident


def set_tags(incident: Incident, names: list[str]) -> None:
    """Give the incident exactly these tags, creating the ones that do not exist yet."""
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        if name not in existing:
            existing[name] = Tag(name=name)
            session.add(existing[name])
        tags.append(existing[name])
    incident.tags = tags


def list_tags(viewer: User) -> list[str]:
    """Names of the tags on incidents `viewer` may see, alphabetically."""
    used = (
        select(incident_tag.c.tag_id)
        .join(Incident, Incident.id == incident_tag.c.incident_id)
        .where(visible_incidents(viewer))
    )
    return list(session.scalars(select(Tag.name).where(Tag.id.in_(used)).order_by(Tag.name)))


def recurrence_candidates(viewer: User, incident: Incident | None) -> Select[tuple[Incident]]:
    """Incidents that the given one may be a recurrence of: any other the viewer sees."""
    stmt = select(Incident).where(visible_incidents(viewer)).order_by(Incident.started_at.desc())
    return stmt if incident is None else stmt.where(Incident.id != incident.id)


def set_primary_factor(incident_factor: IncidentFactor) -> None:
    """Make this factor the incident's only primary one."""
    for other in incident_factor.incident.factors:
        other.is_primary = other is incident_factor
