"""From a parsed API request to the services' plain values, and from rows to API answers.

Names are looked up here (a team's, a factor's, a guard check's, an owner's email, the key of
the postmortem it repeats); what is unknown is collected and refused together, under the
request's own field names ("factors.0.factor"), before anything is written.
"""

from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from models import (
    ContributingFactor,
    GuardCheck,
    GuardKind,
    Incident,
    Team,
    User,
)
from models.incident import SECTION_NAMES
from postmortems.api import schemas
from postmortems.auth.access import reference_key, visible_incidents
from postmortems.auth.service import normalise_email
from postmortems.db import session
from postmortems.domain import DomainError, Problems
from postmortems.incidents import workflow
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    NewGuard,
    PartValues,
    TimelineEventValues,
    read_amount,
)
from postmortems.incidents.service import FIRST_YEAR, LAST_YEAR, IncidentError, IncidentValues
from postmortems.policy import can
from postmortems.timezones import from_local

PART_LISTS = ("timeline", "factors", "impacts", "lessons", "action_items")
TIME_FIELDS = ("started_at", "detected_at", "mitigated_at", "resolved_at")
# The services' field names that the API names otherwise.
API_NAMES = {
    "team_id": "team",
    "recurrence_of_id": "recurrence_of",
    "owner_id": "owner_email",
    "factor_id": "factor",
    "guard_ids": "guards",
    "new_guard_name": "guards",
    "access_user_ids": "access",
}


def instant(value: datetime | None, field: str, problems: Problems) -> datetime | None:
    """An aware instant; a time without an offset is read in the configured zone."""
    if value is None:
        return None
    # Checked before any conversion: a year far outside could not be converted at all.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        problems.add(field, f"Choose a time from {FIRST_YEAR} to {LAST_YEAR}.")
        return None
    return value if value.tzinfo is not None else from_local(value)


def incident_values(
    body: schemas.PostmortemIn, viewer: User, incident: Incident | None = None
) -> IncidentValues:
    """The incident's values: the body's fields over the saved ones (PATCH) or the defaults."""
    problems = Problems()
    given = body.model_fields_set
    values: dict[str, Any] = {} if incident is None else current_values(incident)
    for f in dataclass_fields(IncidentValues):
        if f.name in given and hasattr(body, f.name) and f.name not in TIME_FIELDS:
            value = getattr(body, f.name)
            values[f.name] = tuple(value) if f.name == "tags" else value
    for name in TIME_FIELDS:
        if incident is None or name in given:
            values[name] = instant(getattr(body, name), name, problems)
    if (
        incident is not None
        and not incident.is_external  # another organisation's may have none
        and "started_at" in given
        and body.started_at is None
    ):
        problems.add("started_at", "An incident has a start; give it.")
    if "team" in given:
        values["team_id"] = _team_id(body.team, problems)
    if "recurrence_of" in given:
        values["recurrence_of_id"] = _incident_id(body.recurrence_of, viewer, problems)
    problems.raise_if_any(IncidentError)
    return IncidentValues(**values)


def current_values(incident: Incident) -> dict[str, Any]:
    values = {
        f.name: getattr(incident, f.name)
        for f in dataclass_fields(IncidentValues)
        if f.name not in ("tags", "access_user_ids")
    }
    values["tags"] = tuple(tag.name for tag in incident.tags)
    values["access_user_ids"] = tuple(user.id for user in incident.access_users)
    return values


def _team_id(name: str | None, problems: Problems) -> int | None:
    if name is None or not name.strip():
        return None
    team_id = session.scalar(select(Team.id).where(Team.name == name.strip()))
    if team_id is None:
        problems.add("team", f"No team is named “{name}”.")
    return team_id


def _incident_id(key: str | None, viewer: User, problems: Problems) -> int | None:
    if key is None or not key.strip():
        return None
    stmt = select(Incident.id).where(Incident.key == key.strip(), visible_incidents(viewer))
    incident_id = session.scalar(stmt)
    if incident_id is None:
        problems.add("recurrence_of", f"No postmortem {key} that you may see.")
    return incident_id


def part_values(body: schemas.PostmortemIn) -> list[tuple[str, PartValues]]:
    """Every part of the body as (request name, values), e.g. ("timeline.0", …)."""
    problems = Problems()
    parts: list[tuple[str, PartValues]] = []
    for n, event in enumerate(body.timeline):
        at = instant(event.at, f"timeline.{n}.at", problems)
        if at is not None:
            parts.append((f"timeline.{n}", TimelineEventValues(at=at, text_md=event.text_md)))
    for n, factor in enumerate(body.factors):
        factor_id = session.scalar(
            select(ContributingFactor.id).where(
                ContributingFactor.category == factor.category,
                ContributingFactor.name == factor.factor.strip(),
            )
        )
        if factor_id is None:
            problems.add(
                f"factors.{n}.factor",
                f"No factor “{factor.factor}” in {factor.category.label.lower()}; "
                "see /api/v1/taxonomy.",
            )
            continue
        parts.append(
            (
                f"factors.{n}",
                FactorValues(factor_id=factor_id, note=factor.note, is_primary=factor.is_primary),
            )
        )
    for n, impact in enumerate(body.impacts):
        parts.append((f"impacts.{n}", _impact(impact, f"impacts.{n}", problems)))
    for n, lesson in enumerate(body.lessons):
        parts.append((f"lessons.{n}", LessonValues(group=lesson.group, text_md=lesson.text_md)))
    new_guards: set[str] = set()
    for n, item in enumerate(body.action_items):
        values = _action_item(item, f"action_items.{n}", new_guards, problems)
        if values is not None:
            parts.append((f"action_items.{n}", values))
    problems.raise_if_any(IncidentError, "Some parts name what does not exist; see fields.")
    return parts


def _impact(impact: schemas.ImpactIn, name: str, problems: Problems) -> ImpactValues:
    def amount(field: str) -> Decimal | None:
        text = getattr(impact, field)
        try:
            return None if text is None else read_amount(text)
        except ValueError as exc:  # the service's rule and message, under the request's name
            problems.add(f"{name}.{field}", str(exc))
            return None

    return impact_values(impact, amount)


def impact_values(
    impact: schemas.ImpactIn, amount: Callable[[str], Decimal | None]
) -> ImpactValues:
    """The service's values of a parsed impact (the API's or a file's), each bound read by
    `amount`, which reports a bad one its own way."""
    return ImpactValues(
        kind=impact.kind,
        low=amount("low"),
        likely=amount("likely"),
        high=amount("high"),
        currency=impact.currency or "",
        unit=impact.unit or "",
        level=impact.level,
        method_note=impact.method_note,
        estimated_by=impact.estimated_by,
    )


def _action_item(
    item: schemas.ActionItemIn, name: str, new_guards: set[str], problems: Problems
) -> ActionItemValues | None:
    owner_id = None
    if item.owner_email:
        owner_id = session.scalar(
            select(User.id).where(User.email == normalise_email(item.owner_email), User.is_active)
        )
        if owner_id is None:
            problems.add(f"{name}.owner_email", "No active account has this email.")
    names = list(dict.fromkeys(g.strip() for g in item.guards if g.strip()))
    rows = session.execute(select(GuardCheck.name, GuardCheck.id).where(GuardCheck.name.in_(names)))
    known: dict[str, int] = {guard_name: guard_id for guard_name, guard_id in rows}
    unknown = [n for n in names if n not in known]
    new_guard = None
    if len(unknown) > 1:
        problems.add(
            f"{name}.guards",
            "At most one new guard check per action item; add the others on the guard "
            f"checks page first: {', '.join(unknown[1:])}.",
        )
    elif unknown:
        if unknown[0] in new_guards:
            problems.add(
                f"{name}.guards",
                f"“{unknown[0]}” is new in this request already: name it on one action item.",
            )
        new_guards.add(unknown[0])
        new_guard = NewGuard(name=unknown[0], kind=GuardKind.AUTOMATED_TEST)
    if problems:
        return None
    return ActionItemValues(
        title=item.title,
        group=item.group,
        type=item.type,
        details_md=item.details_md,
        owner_id=owner_id,
        owner=item.owner,
        due_on=item.due_on,
        status=item.status,
        wont_do_reason=item.wont_do_reason,
        completed_on=item.completed_on,
        decided_on=item.decided_on,
        tracker_url=item.tracker_url,
        guard_ids=tuple(known[n] for n in names if n in known),
        new_guard=new_guard,
    )


def api_fields(error: DomainError) -> dict[str, list[str]]:
    """A service's field names as the request named them: "timeline.0-at" → "timeline.0.at",
    "team_id" → "team"."""
    named: dict[str, list[str]] = {}
    for field, messages in error.fields.items():
        part, dash, inner = field.partition("-")
        if dash and part.split(".", 1)[0] in PART_LISTS:
            name = f"{part}.{API_NAMES.get(inner, inner)}"
        else:
            name = API_NAMES.get(field, field)
        named.setdefault(name, []).extend(messages)
    return named


# Answers.


def summary(incident: Incident, url: str) -> dict[str, Any]:
    return {
        "id": incident.id,
        "key": incident.key,
        "url": url,
        "title": incident.title,
        "summary": incident.summary,
        # An external reference's source grades none: null, not the SEV3 it is stored with.
        "severity": None if incident.is_external else incident.severity,
        "status": incident.status,
        "team": incident.team.name if incident.team else None,
        "started_at": incident.started_at,
        "is_near_miss": incident.is_near_miss,
        "exclude_from_metrics": incident.exclude_from_metrics,
        "is_restricted": incident.is_restricted,
        "version": incident.version,
    }


def postmortem(incident: Incident, url: str, viewer: User) -> dict[str, Any]:
    """Everything about one postmortem (loaded with PAGE_OPTIONS)."""
    simple = [
        "affected_system",
        "environment",
        "started_is_estimated",
        "detected_at",
        "detected_is_estimated",
        "mitigated_at",
        "mitigated_is_estimated",
        "resolved_at",
        "resolved_is_estimated",
        *SECTION_NAMES,
        "created_at",
        "updated_at",
    ]
    return {
        **summary(incident, url),
        **{name: getattr(incident, name) for name in simple},
        "tags": [tag.name for tag in incident.tags],
        # Named only if the caller may see it: a hidden one reads as none.
        "recurrence_of": reference_key(viewer, incident.recurrence_of),
        "author": incident.author.email if incident.author else None,
        "owner": incident.owner_label,
        "timeline": [{"id": e.id, "at": e.at, "text_md": e.text_md} for e in incident.timeline],
        "factors": [
            {
                "id": f.id,
                "category": f.factor.category,
                "factor": f.factor.name,
                "factor_id": f.factor_id,
                "note": f.note,
                "is_primary": f.is_primary,
            }
            for f in incident.factors
        ],
        "impacts": [
            {
                "id": i.id,
                "kind": i.kind,
                "low": _decimal(i.low),
                "likely": _decimal(i.likely),
                "high": _decimal(i.high),
                "currency": i.currency,
                "unit": i.unit,
                "level": i.level,
                "method_note": i.method_note,
                "estimated_by": i.estimated_by,
            }
            for i in incident.impacts
        ],
        "lessons": [
            {"id": lesson.id, "group": lesson.group, "text_md": lesson.text_md}
            for lesson in incident.lessons
        ],
        "action_items": [
            {
                "id": a.id,
                "title": a.title,
                "group": a.group,
                "type": a.type,
                "details_md": a.details_md,
                "owner": a.owner_label,
                "due_on": a.due_on,
                "status": a.status,
                "wont_do_reason": a.wont_do_reason,
                "completed_on": a.completed_on,
                "decided_on": a.decided_on,
                "tracker_url": a.tracker_url,
                "guards": [{"id": g.id, "name": g.name} for g in a.guards],
            }
            for a in incident.action_items
        ],
        "publish_problems": workflow.publish_problems(incident),
        "steps": [
            step for step, _ in workflow.available_steps(incident) if can(viewer, step, incident)
        ],
    }


def _decimal(value: Decimal | None) -> str | None:
    """An exact decimal as stored, without exponent or trailing zeros."""
    return None if value is None else format(value.normalize(), "f")
