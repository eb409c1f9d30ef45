"""Revisions of a postmortem: a snapshot after every change, diffs between any two, restore."""

import difflib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    ContributingFactor,
    GuardCheck,
    ImpactEstimate,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentFactor,
    IncidentRevision,
    IncidentStatus,
    Lesson,
    LessonGroup,
    Severity,
    Team,
    TimelineEvent,
    User,
)
from models.incident import SECTION_NAMES, SECTIONS
from postmortems.audit.service import record_event
from postmortems.db import session
from postmortems.guards.escapes import record_escapes
from postmortems.incidents.rows import lock_incident, set_tags
from postmortems.timezones import to_local

# Incident columns kept in a revision and put back by a restore. The status is not among
# them: restoring old text must not publish or unpublish anything.
SCALARS = [
    "title",
    "summary",
    "severity",
    "team_id",
    "affected_system",
    "environment",
    "started_at",
    "started_is_estimated",
    "detected_at",
    "detected_is_estimated",
    "mitigated_at",
    "mitigated_is_estimated",
    "resolved_at",
    "resolved_is_estimated",
    *SECTION_NAMES,
    "is_near_miss",
    "exclude_from_metrics",
    "recurrence_of_id",
    "owner_id",
    "owner_name",
    "is_restricted",
]
REFERENCES = {"team_id": Team, "recurrence_of_id": Incident, "owner_id": User}

# The columns of each part a revision keeps, beside those snapshot() names itself.
IMPACT_COLUMNS = (
    "kind",
    "low",
    "likely",
    "high",
    "currency",
    "unit",
    "level",
    "method_note",
    "estimated_by",
)
ACTION_COLUMNS = (
    "title",
    "details_md",
    "group",
    "type",
    "owner",
    "owner_id",
    "due_on",
    "status",
    "wont_do_reason",
    "completed_on",
    "decided_on",
    "tracker_url",
)


def _plain(value: Any) -> Any:
    """A JSON-safe form of a column value: enums by name, decimals and dates as text."""
    if hasattr(value, "name") and hasattr(value, "value"):
        return value.name
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(incident: Incident) -> dict[str, Any]:
    """Everything a revision keeps of the postmortem, parts included, as plain JSON."""
    return {
        **_columns(incident, SCALARS),
        "status": incident.status.name,
        "owner_label": incident.owner_label,  # for reading diffs; restore uses the ids
        "tags": [t.name for t in incident.tags],
        "access_user_ids": [u.id for u in incident.access_users],
        "timeline": [{"at": _plain(e.at), "text_md": e.text_md} for e in incident.timeline],
        "factors": [_factor_snapshot(f) for f in incident.factors],
        "impacts": [_columns(i, IMPACT_COLUMNS) for i in incident.impacts],
        "lessons": [
            {"group": lesson.group.name, "text_md": lesson.text_md} for lesson in incident.lessons
        ],
        "actions": [_action_snapshot(a) for a in incident.action_items],
    }


def _columns(row: Any, names: Any) -> dict[str, Any]:
    """The named columns of a row, as plain JSON values."""
    return {name: _plain(getattr(row, name)) for name in names}


def _factor_snapshot(factor: IncidentFactor) -> dict[str, Any]:
    return {
        "factor_id": factor.factor_id,
        "name": str(factor.factor),
        "note": factor.note,
        "is_primary": factor.is_primary,
    }


def _action_snapshot(item: ActionItem) -> dict[str, Any]:
    return {
        **_columns(item, ACTION_COLUMNS),
        "owner_label": item.owner_label,
        "guard_ids": [g.id for g in item.guards],
        "guards": [g.name for g in item.guards],
    }


def record_change(incident: Incident, summary: str) -> IncidentRevision | None:
    """Keep a revision of the postmortem and an audit event of the change that made it."""
    revision = record_revision(incident, summary)
    if revision is not None:
        record_event(
            summary, "incident", incident.id, f"{incident.key}: revision {revision.number}"
        )
    return revision


def record_revision(incident: Incident, summary: str) -> IncidentRevision | None:
    """Keep the postmortem as it is now, unless nothing changed since the last revision."""
    session.flush()
    lock_incident(incident)  # revision numbers are taken one change at a time
    session.refresh(incident)
    current = snapshot(incident)
    last = session.scalar(
        select(IncidentRevision)
        .where(IncidentRevision.incident_id == incident.id)
        .order_by(IncidentRevision.number.desc())
        .limit(1)
    )
    if last is not None and last.snapshot == current:
        return None
    user = current_user if current_user and current_user.is_authenticated else None
    revision = IncidentRevision(
        incident_id=incident.id,
        number=(last.number + 1) if last else 1,
        user_id=user.id if user else None,
        summary=summary,
        snapshot=current,
    )
    session.add(revision)
    session.flush()
    return revision


def as_text(data: dict[str, Any], team_names: dict[int, str] | None = None) -> list[str]:
    """A revision as lines of readable text, for diffs; teams by their names now."""
    team_names = team_names or {}
    fields = [
        ("Title", data["title"]),
        ("Summary", data["summary"]),
        ("Severity", _label(Severity, data["severity"])),
        ("Status", _label(IncidentStatus, data["status"])),
        ("Affected system", data["affected_system"]),
        ("Environment", data["environment"]),
        ("Tags", ", ".join(data["tags"])),
        ("Team", _team(data.get("team_id"), team_names)),
        ("Restricted", "yes" if data["is_restricted"] else "no"),
        ("Near-miss", "yes" if data.get("is_near_miss") else "no"),
        ("Excluded from metrics", "yes" if data.get("exclude_from_metrics") else "no"),
        ("Owner", data.get("owner_label", data["owner_name"])),
    ]
    lines = [f"{name}: {value}" for name, value in fields]
    for name in ("started", "detected", "mitigated", "resolved"):
        value = data[f"{name}_at"]
        shown = to_local(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M") if value else ""
        estimated = " (estimated)" if value and data[f"{name}_is_estimated"] else ""
        lines.append(f"{name.capitalize()}: {shown}{estimated}")
    for key, heading in SECTIONS:
        lines += ["", f"## {heading}", *data[key].splitlines()]
    lines += ["", "## Timeline"]
    for event in data["timeline"]:
        at = to_local(datetime.fromisoformat(event["at"])).strftime("%Y-%m-%d %H:%M")
        lines.append(f"- {at} {event['text_md']}")
    lines += ["", "## Contributing factors"]
    for f in data["factors"]:
        lines.append(f"- {f['name']}{' (primary)' if f['is_primary'] else ''}: {f['note']}")
    lines += ["", "## Impact"]
    for i in data["impacts"]:
        kind = _label(ImpactKind, i["kind"])
        if i["level"]:
            estimate = f"level {_label(ImpactLevel, i['level'])}"
        else:
            estimate = f"{i['low']} / {i['likely']} / {i['high']} {i['currency'] or i['unit']}"
        lines.append(f"- {kind}: {estimate}")
        lines += _detail("How it was estimated", i.get("method_note"))
        lines += _detail("Estimated by", i.get("estimated_by"))
    lines += ["", "## Lessons"]
    for lesson in data["lessons"]:
        lines.append(f"- [{_label(LessonGroup, lesson['group'])}] {lesson['text_md']}")
    lines += ["", "## Action items"]
    for a in data["actions"]:
        owner = a.get("owner_label", a["owner"])
        kinds = f"{_label(ActionType, a['type'])}, {_label(ActionStatus, a['status'])}"
        guards = ", ".join(a["guards"])
        lines.append(f"- {a['title']} [{kinds}] owner {owner} due {a['due_on']} guards: {guards}")
        lines += _detail("Group", _label(LessonGroup, a["group"]) if a.get("group") else None)
        lines += _detail("Details", a.get("details_md"))
        lines += _detail("Won't do because", a.get("wont_do_reason"))
        lines += _detail("Completed on", a.get("completed_on"))
        lines += _detail("Decided on", a.get("decided_on"))
        lines += _detail("Tracker", a.get("tracker_url"))
    return lines


def _team(team_id: int | None, team_names: dict[int, str]) -> str:
    """A revision's team by its name now (its number if the team is gone); "" for none."""
    return "" if team_id is None else team_names.get(team_id, str(team_id))


def _detail(name: str, value: str | None) -> list[str]:
    """A part's field under its line, indented, each of its lines apart (nothing when empty):
    every field a revision keeps shows in the diff when it changes."""
    if not value:
        return []
    first, *rest = str(value).splitlines() or [""]
    return [f"    {name}: {first}", *(f"      {line}" for line in rest)]


def _label(enum_class: Any, name: str) -> str:
    """An enum member's label from the name a revision keeps (the name itself if unknown)."""
    member = enum_class.__members__.get(name)
    return str(member.label) if member is not None else name


def diff(older: IncidentRevision, newer: IncidentRevision) -> list[tuple[str, str]]:
    """A unified diff between two revisions as (kind, line) pairs: kind is add, remove,
    context or hunk."""
    team_ids = {older.snapshot.get("team_id"), newer.snapshot.get("team_id")} - {None}
    team_names = dict(
        session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()
    )
    lines = difflib.unified_diff(
        as_text(older.snapshot, team_names),
        as_text(newer.snapshot, team_names),
        f"revision {older.number}",
        f"revision {newer.number}",
        n=2,
        lineterm="",
    )
    result = []
    for line in list(lines)[2:]:
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "context")
        result.append((kind, line))
    return result


def restore(incident: Incident, revision: IncidentRevision) -> None:
    """Put the postmortem back as it was in `revision` (its status stays as it is now)."""
    lock_incident(incident)
    data = revision.snapshot
    # Old parts go first: the new ones may repeat a unique key (one factor per incident).
    incident.timeline.clear()
    incident.factors.clear()
    incident.impacts.clear()
    incident.lessons.clear()
    incident.action_items.clear()
    session.flush()
    for name in SCALARS:
        setattr(incident, name, _column_value(name, data[name]))
    set_tags(incident, data["tags"])
    access_users = select(User).where(User.id.in_(data["access_user_ids"]))
    incident.access_users = list(session.scalars(access_users))
    incident.timeline = [
        TimelineEvent(at=datetime.fromisoformat(e["at"]), text_md=e["text_md"])
        for e in data["timeline"]
    ]
    known_factors = set(session.scalars(select(ContributingFactor.id)))
    incident.factors = [
        IncidentFactor(factor_id=f["factor_id"], note=f["note"], is_primary=f["is_primary"])
        for f in data["factors"]
        if f["factor_id"] in known_factors
    ]
    incident.impacts = [_impact(i) for i in data["impacts"]]
    incident.lessons = [
        Lesson(group=LessonGroup[x["group"]], text_md=x["text_md"]) for x in data["lessons"]
    ]
    incident.action_items = [_action(a) for a in data["actions"]]
    session.flush()
    record_escapes(incident)
    record_change(incident, f"restored revision {revision.number}")


def _column_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in REFERENCES:  # the row it pointed to may have been deleted since
        return value if session.get(REFERENCES[name], value) is not None else None
    if name == "severity":
        return Severity[value]
    if name.endswith("_at"):
        return datetime.fromisoformat(value)
    return value


def _impact(data: dict[str, Any]) -> ImpactEstimate:
    def dec(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    return ImpactEstimate(
        kind=ImpactKind[data["kind"]],
        low=dec(data["low"]),
        likely=dec(data["likely"]),
        high=dec(data["high"]),
        currency=data["currency"],
        unit=data["unit"],
        level=ImpactLevel[data["level"]] if data["level"] else None,
        method_note=data["method_note"],
        estimated_by=data["estimated_by"],
    )


def _action(data: dict[str, Any]) -> ActionItem:
    def day(text: str | None) -> date | None:
        return None if text is None else date.fromisoformat(text)

    owner_exists = data["owner_id"] is not None and session.get(User, data["owner_id"])
    guards = select(GuardCheck).where(GuardCheck.id.in_(data["guard_ids"]))
    return ActionItem(
        title=data["title"],
        details_md=data["details_md"],
        group=LessonGroup[data["group"]],
        type=ActionType[data["type"]],
        owner=data["owner"],
        owner_id=data["owner_id"] if owner_exists else None,
        due_on=day(data["due_on"]),
        status=ActionStatus[data["status"]],
        wont_do_reason=data["wont_do_reason"],
        completed_on=day(data["completed_on"]),
        decided_on=day(data.get("decided_on")),
        tracker_url=data["tracker_url"],
        guards=list(session.scalars(guards)),
    )
