"""Writing our own file format: every postmortem as Markdown with YAML front matter, and YAML
files for the taxonomy, teams and headcount, growth stages, guard checks, users and reading
paths. The same data always gives the same bytes (sorted keys and ids, ISO UTC instants with
Z, decimals as text); rows are named by what people see (a key, an email, a name), never by
database ids, so an export loads into any database."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (
    ActionItem,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    Incident,
    ReadingPath,
    ReadingPathItem,
    User,
)
from models.incident import SECTIONS
from postmortems.db import session
from postmortems.incidents.service import PAGE_OPTIONS
from postmortems.teams import service as teams
from postmortems.transfer.files import day, decimal_text, dump_yaml, front_matter_file, iso

FORMAT_VERSION = 1
POSTMORTEMS_DIR = "postmortems"
# The YAML files, in the order they import: each may name rows of the ones before it.
TAXONOMY, TEAMS, STAGES, USERS, GUARDS = (
    "taxonomy.yaml",
    "teams.yaml",
    "stages.yaml",
    "users.yaml",
    "guards.yaml",
)
PATHS = "reading_paths.yaml"  # imported after the postmortems it names


def export_files() -> dict[str, str]:
    """Every postmortem and the rows they rest on, as {relative path: file text}."""
    files = {
        TAXONOMY: dump_yaml({"format": FORMAT_VERSION, "factors": _factors()}),
        TEAMS: dump_yaml({"format": FORMAT_VERSION, "teams": _teams()}),
        STAGES: dump_yaml({"format": FORMAT_VERSION, "stages": _stages()}),
        USERS: dump_yaml({"format": FORMAT_VERSION, "users": _users()}),
        GUARDS: dump_yaml({"format": FORMAT_VERSION, "guards": _guards()}),
        PATHS: dump_yaml({"format": FORMAT_VERSION, "paths": _paths()}),
    }
    stmt = select(Incident).options(*PAGE_OPTIONS).order_by(Incident.key)
    for incident in session.scalars(stmt):
        files[f"{POSTMORTEMS_DIR}/{incident.key}.md"] = postmortem_file(incident)
    return files


def _factors() -> list[dict[str, Any]]:
    order = list(CauseCategory)
    factors = sorted(
        session.scalars(select(ContributingFactor)),
        key=lambda f: (order.index(f.category), f.name),
    )
    return [
        {"category": f.category.name, "name": f.name, "description": f.description} for f in factors
    ]


def _teams() -> list[dict[str, Any]]:
    return [
        {
            "name": team.name,
            "description": team.description,
            "headcount": [
                {"on_date": day(s.on_date), "headcount": s.headcount} for s in team.snapshots
            ],
        }
        for team in session.scalars(teams.list_teams())
    ]


def _stages() -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "min_headcount": s.min_headcount,
            "max_headcount": s.max_headcount,
            "description": s.description,
        }
        for s in session.scalars(teams.list_stages())
    ]


def _users() -> list[dict[str, Any]]:
    """Accounts without their password hashes: an imported account gets a new password."""
    users = session.scalars(select(User).options(selectinload(User.team)).order_by(User.email))
    return [
        {
            "email": u.email,
            "name": u.name,
            "role": u.role.name,
            "team": u.team.name if u.team else None,
            "is_active": u.is_active,
            "created_at": iso(u.created_at),
        }
        for u in users
    ]


def _guards() -> list[dict[str, Any]]:
    return [
        {
            "name": g.name,
            "kind": g.kind.name,
            "location": g.location,
            "description_md": g.description_md,
            "owner": g.owner,
            "status": g.status.name,
            "created_at": iso(g.created_at),
            "updated_at": iso(g.updated_at),
        }
        for g in session.scalars(select(GuardCheck).order_by(GuardCheck.name))
    ]


def _paths() -> list[dict[str, Any]]:
    """Reading paths with their items in order (who has read what is not exported)."""
    stmt = select(ReadingPath).options(
        selectinload(ReadingPath.team),
        selectinload(ReadingPath.created_by),
        selectinload(ReadingPath.items).selectinload(ReadingPathItem.incident),
    )
    return [
        {
            "title": p.title,
            "description_md": p.description_md,
            "team": p.team.name if p.team else None,
            "for_new_users": p.for_new_users,
            "created_by": p.created_by.email if p.created_by else None,
            "created_at": iso(p.created_at),
            "updated_at": iso(p.updated_at),
            "items": [{"key": i.incident.key, "note_md": i.note_md} for i in p.items],
        }
        for p in session.scalars(stmt.order_by(ReadingPath.title))
    ]


def postmortem_file(incident: Incident) -> str:
    """One postmortem: every field and part in the front matter, its sections as the body."""
    fields: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "key": incident.key,
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity.name,
        "status": incident.status.name,
        "team": incident.team.name if incident.team else None,
        "affected_system": incident.affected_system,
        "environment": incident.environment,
        "tags": [tag.name for tag in incident.tags],
        "is_near_miss": incident.is_near_miss,
        "exclude_from_metrics": incident.exclude_from_metrics,
        "recurrence_of": incident.recurrence_of.key if incident.recurrence_of else None,
        "author": incident.author.email if incident.author else None,
        "owner": incident.owner.email if incident.owner else None,
        "owner_name": incident.owner_name,
        "is_restricted": incident.is_restricted,
        "access_users": sorted(user.email for user in incident.access_users),
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "source": None,
        "timeline": [
            {"at": iso(event.at), "text_md": event.text_md}
            for event in sorted(incident.timeline, key=lambda e: (e.at, e.id))
        ],
        "factors": [
            {
                "category": f.factor.category.name,
                "factor": f.factor.name,
                "note": f.note,
                "is_primary": f.is_primary,
            }
            for f in incident.factors
        ],
        "impacts": [
            {
                "kind": i.kind.name,
                "low": decimal_text(i.low),
                "likely": decimal_text(i.likely),
                "high": decimal_text(i.high),
                "currency": i.currency,
                "unit": i.unit,
                "level": i.level.name if i.level else None,
                "method_note": i.method_note,
                "estimated_by": i.estimated_by,
            }
            for i in incident.impacts
        ],
        "lessons": [{"group": x.group.name, "text_md": x.text_md} for x in incident.lessons],
        "action_items": [_action_item(item) for item in incident.action_items],
    }
    for moment in ("started", "detected", "mitigated", "resolved"):
        fields[f"{moment}_at"] = iso(getattr(incident, f"{moment}_at"))
        fields[f"{moment}_is_estimated"] = getattr(incident, f"{moment}_is_estimated")
    if incident.is_external:
        fields["source"] = {
            "collection": incident.source_collection,
            "external_id": incident.external_id,
            "organisation": incident.source_organisation,
            "url": incident.source_url,
        }
    body = "".join(
        f"<!-- section: {name} -->\n## {label}\n\n{getattr(incident, name)}\n\n"
        for name, label in SECTIONS
        if getattr(incident, name)
    )
    return front_matter_file(fields, body)


def _action_item(item: ActionItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "details_md": item.details_md,
        "group": item.group.name,
        "type": item.type.name,
        "owner": item.owner,
        "owner_user": item.owner_user.email if item.owner_user else None,
        "due_on": day(item.due_on),
        "status": item.status.name,
        "wont_do_reason": item.wont_do_reason,
        "completed_on": day(item.completed_on),
        "decided_on": day(item.decided_on),
        "tracker_url": item.tracker_url,
        "guards": [guard.name for guard in item.guards],
    }
