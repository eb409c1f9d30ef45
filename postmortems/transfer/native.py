"""Our own file format: every postmortem as Markdown with YAML front matter, and YAML files for
the taxonomy, teams and headcount, growth stages, guard checks, users and reading paths.

`export_files()` returns the files as {relative path: text}; the same data always gives the same
bytes (sorted keys and ids, ISO UTC instants with Z, decimals as text). `import_files()` reads
them back through the services, one transaction per file: a refused file leaves nothing behind
and every other file still imports. Rows are named by what people see (a key, an email, a
name), never by database ids, so an export loads into any database.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GrowthStage,
    GuardCheck,
    GuardKind,
    GuardStatus,
    ImpactKind,
    ImpactLevel,
    Incident,
    IncidentStatus,
    LessonGroup,
    ReadingPath,
    ReadingPathItem,
    Role,
    Severity,
    Team,
    User,
)
from models.incident import SECTIONS
from postmortems.auth.service import create_user, random_password
from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.guards.service import GuardValues, create_guard
from postmortems.incidents import history
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    PartValues,
    TimelineEventValues,
    delete_part,
    save_part,
)
from postmortems.incidents.parts import Part as StoredPart
from postmortems.incidents.service import (
    PAGE_OPTIONS,
    ExternalSource,
    IncidentValues,
    create_incident,
    load_incident_page,
    update_incident,
)
from postmortems.limits import NAME_TEXT
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.taxonomy.service import create_factor, update_factor
from postmortems.teams import service as teams
from postmortems.transfer.files import (
    Fields,
    ImportProblem,
    Record,
    at_line,
    check_text,
    day,
    decimal_text,
    decode_text,
    dump_yaml,
    each_record,
    front_matter_file,
    iso,
    load_yaml,
    split_front_matter,
)

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
SECTION_LABELS = dict(SECTIONS)
UNCHANGED = "unchanged since the last import"  # the reason a file found again is skipped
SECTION_MARK = re.compile(r"^<!-- section: ([a-z_]+) -->\n", re.MULTILINE)


# Export.


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
    for extra in EXTRA_EXPORTS:
        files.update(extra())
    return files


# Other features add their own files here (reading paths: a `reading_paths.yaml`), and the
# matching readers to EXTRA_IMPORTS; each runs after the postmortems.
EXTRA_EXPORTS: list[Callable[[], dict[str, str]]] = []
EXTRA_IMPORTS: dict[str, Callable[[str], int]] = {}


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
        "tracker_url": item.tracker_url,
        "guards": [guard.name for guard in item.guards],
    }


# Import.


@dataclass
class ImportSummary:
    """What an import did: counts, and each file (or record) left out with the reason."""

    imported: int = 0
    updated: int = 0
    postmortems: int = 0  # of those imported
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def line(self) -> str:
        return f"imported {self.imported}, updated {self.updated}, skipped {len(self.skipped)}"


def import_files(files: Mapping[str, str | bytes], *, update: bool = True) -> ImportSummary:
    """Import an export (relative path → text, or the bytes as read), file by file, each in
    its own transaction. A postmortem whose key exists is updated when its file changed
    (`update` False: left as it is, and skipped as existing)."""
    summary = ImportSummary()
    readers: list[tuple[str, Callable[[Fields], tuple[int, list[str]]]]] = [
        (TAXONOMY, _import_taxonomy),
        (TEAMS, _import_teams),
        (STAGES, _import_stages),
        (USERS, _import_users),
        (GUARDS, _import_guards),
    ]
    texts = _decoded(files, {name for name, _ in readers} | {PATHS} | set(EXTRA_IMPORTS), summary)
    for name, read in readers:
        if name in texts:
            _one_file(summary, name, _reading(read, texts[name]))
    postmortems = {path: text for path, text in texts.items() if _is_postmortem(path)}
    import_postmortems(postmortems, summary, update=update)
    if PATHS in texts:
        _one_file(summary, PATHS, _reading(_import_paths, texts[PATHS]))
    for name, read_extra in EXTRA_IMPORTS.items():
        if name in texts:
            _one_file(summary, name, _extra(read_extra, texts[name]))
    known = {name for name, _ in readers} | {PATHS} | set(postmortems) | set(EXTRA_IMPORTS)
    for path in sorted(set(texts) - known):
        summary.skipped.append((path, "not a file of this format"))
    return summary


def _is_postmortem(path: str) -> bool:
    return path.startswith(f"{POSTMORTEMS_DIR}/") and path.endswith(".md")


def _decoded(
    files: Mapping[str, str | bytes], names: set[str], summary: ImportSummary
) -> dict[str, str]:
    """The files as text; one of this format that is not UTF-8 is refused by itself (a file
    of no known name stays, to be skipped as not of this format)."""
    texts = {}
    for path, content in files.items():
        if isinstance(content, str):
            texts[path] = content
        elif path not in names and not _is_postmortem(path):
            texts[path] = ""
        else:
            try:
                texts[path] = decode_text(content)
            except ImportProblem as exc:
                summary.failed.append((exc.where(path), exc.reason))
    return texts


def _reading(
    read: Callable[[Fields], tuple[int, list[str]]], text: str
) -> Callable[[], tuple[int, list[str]]]:
    return lambda: read(_yaml_file(text))


def _extra(read: Callable[[str], int], text: str) -> Callable[[], tuple[int, list[str]]]:
    return lambda: (read(text), [])


def _one_file(
    summary: ImportSummary, name: str, change: Callable[[], tuple[int, list[str]]]
) -> bool:
    """Run one file's import as one transaction; a refusal is recorded, not raised."""
    try:
        added, skipped = commit_change(change)
    except ImportProblem as exc:
        session.rollback()
        summary.failed.append((exc.where(name), exc.reason))
        return False
    except DomainError as exc:
        session.rollback()
        summary.failed.append((name, exc.message))
        return False
    summary.imported += added
    summary.skipped += [(name, why) for why in skipped]
    return True


def _yaml_file(text: str) -> Fields:
    data = load_yaml(text)
    if not isinstance(data, Record):
        raise ImportProblem("expected a mapping of fields at the top", 1)
    fields = Fields(data)
    version = fields.integer("format")
    if version != FORMAT_VERSION:
        raise fields.problem("format", f"expected {FORMAT_VERSION}, found {version}")
    return fields


def _refused(record: Record, exc: DomainError) -> ImportProblem:
    return ImportProblem(f"refused: {exc.message}", record.line)


def _import_taxonomy(top: Fields) -> tuple[int, list[str]]:
    added = 0
    known = {(f.category, f.name): f for f in session.scalars(select(ContributingFactor))}
    for record in top.records("factors"):
        f = Fields(record)
        category = f.enum("category", CauseCategory)
        name, description = f.required_text("name"), f.text("description")
        f.finish()
        factor = known.get((category, name))
        try:
            if factor is None:
                create_factor(category=category, name=name, description=description)
                added += 1
            elif factor.description != description:
                update_factor(factor, category=category, name=name, description=description)
        except DomainError as exc:
            raise _refused(record, exc) from exc
    top.finish()
    return added, []


def _import_teams(top: Fields) -> tuple[int, list[str]]:
    added, skipped = 0, []
    for record in top.records("teams"):
        f = Fields(record)
        name, description = f.required_text("name"), f.text("description")
        snapshots = [
            (s.day("on_date"), s.integer("headcount"), s.record.line)
            for s in (Fields(r) for r in f.records("headcount"))
        ]
        f.finish()
        if session.scalar(select(Team.id).where(Team.name == name)) is not None:
            skipped.append(f"team {name!r} already exists")
            continue
        try:
            team = teams.create_team(name=name, description=description)
            for on_date, headcount, line in snapshots:
                if on_date is None or headcount is None:
                    raise ImportProblem("headcount: on_date and headcount are both needed", line)
                teams.add_snapshot(team, on_date=on_date, headcount=headcount)
        except DomainError as exc:
            raise _refused(record, exc) from exc
        added += 1
    top.finish()
    return added, skipped


def _import_stages(top: Fields) -> tuple[int, list[str]]:
    added, skipped = 0, []
    known = set(session.scalars(select(GrowthStage.name)))
    for record in top.records("stages"):
        f = Fields(record)
        values = teams.StageValues(
            name=f.required_text("name"),
            min_headcount=f.integer("min_headcount") or 0,
            max_headcount=f.integer("max_headcount"),
            description=f.text("description"),
        )
        f.finish()
        if values.name in known:
            skipped.append(f"stage {values.name!r} already exists")
            continue
        try:
            teams.create_stage(values)
        except DomainError as exc:
            raise _refused(record, exc) from exc
        added += 1
    top.finish()
    return added, skipped


def _import_users(top: Fields) -> tuple[int, list[str]]:
    """Accounts come without passwords: each gets a random one, to be reset by an admin
    (`flask users set-password`) before its owner signs in."""
    added, skipped = 0, []
    for record in top.records("users"):
        f = Fields(record)
        email, name = f.required_text("email"), f.text("name")
        role = f.enum("role", Role, Role.READER)
        team_name, is_active = f.optional_text("team"), f.flag("is_active")
        created_at = f.instant("created_at")
        f.finish()
        if session.scalar(select(User.id).where(User.email == email.lower())) is not None:
            skipped.append(f"account {email} already exists")
            continue
        try:
            user = create_user(
                email,
                random_password(),
                role,
                name=name,
                team_id=_team_id(team_name, record),
                is_active=is_active,
            )
        except DomainError as exc:
            raise _refused(record, exc) from exc
        if created_at is not None:
            user.created_at = created_at
        added += 1
    top.finish()
    return added, skipped


def _import_guards(top: Fields) -> tuple[int, list[str]]:
    added, skipped = 0, []
    for record in top.records("guards"):
        f = Fields(record)
        values = GuardValues(
            name=f.required_text("name"),
            kind=f.enum("kind", GuardKind),
            location=f.text("location"),
            description_md=f.text("description_md"),
            owner=f.text("owner"),
            status=f.enum("status", GuardStatus, GuardStatus.PROPOSED),
        )
        created_at, updated_at = f.instant("created_at"), f.instant("updated_at")
        f.finish()
        existing = session.scalar(select(GuardCheck).where(GuardCheck.name == values.name))
        try:
            if existing is not None:
                skipped.append(f"guard check {values.name!r} already exists")
                continue
            guard = create_guard(values)
        except DomainError as exc:
            raise _refused(record, exc) from exc
        # When it was added is part of the record: the quarterly review lists guards by it.
        guard.created_at = created_at or guard.created_at
        guard.updated_at = updated_at or guard.updated_at
        added += 1
    top.finish()
    return added, skipped


def _import_paths(top: Fields) -> tuple[int, list[str]]:
    """Reading paths through the paths service, items in the order given."""
    added, skipped = 0, []
    for record in top.records("paths"):
        f = Fields(record)
        title = f.required_text("title")
        description, team_name = f.text("description_md"), f.optional_text("team")
        for_new_users, creator = f.flag("for_new_users"), f.optional_text("created_by")
        created_at, updated_at = f.instant("created_at"), f.instant("updated_at")
        items = [
            (i.required_text("key"), i.text("note_md"), i) for i in map(Fields, f.records("items"))
        ]
        f.finish()
        for _, _, item in items:
            item.finish()
        if session.scalar(select(ReadingPath.id).where(ReadingPath.title == title)) is not None:
            skipped.append(f"reading path {title!r} already exists")
            continue
        creator_id = _user_id(creator, record, "created_by")
        try:
            path = create_path(
                PathValues(title, description, _team_id(team_name, record), for_new_users),
                by=session.get(User, creator_id) if creator_id is not None else None,
            )
            for key, note, item in items:
                with at_line(item.record.line):
                    add_item(path, key, note, curator=None)
        except DomainError as exc:
            raise _refused(record, exc) from exc
        path.created_at = created_at or path.created_at
        path.updated_at = updated_at or path.updated_at
        session.flush()
        added += 1
    top.finish()
    return added, skipped


def _team_id(name: str | None, record: Record) -> int | None:
    if name is None:
        return None
    team_id = session.scalar(select(Team.id).where(Team.name == name))
    if team_id is None:
        raise ImportProblem(f"team: no team named {name!r}", record.key_lines.get("team"))
    return team_id


def _user_id(email: str | None, record: Record, name: str) -> int | None:
    if email is None:
        return None
    user_id = session.scalar(select(User.id).where(User.email == email.lower()))
    if user_id is None:
        raise ImportProblem(f"{name}: no account {email}", record.key_lines.get(name))
    return user_id


# Postmortems.


@dataclass(frozen=True)
class ParsedPostmortem:
    """One postmortem file read into plain values, before anything is written."""

    key: str
    status: IncidentStatus
    values: dict[str, Any]
    team: str | None
    recurrence_of: str | None
    author: str | None
    owner: str | None
    access_users: tuple[str, ...]
    created_at: datetime | None
    updated_at: datetime | None
    source: dict[str, str] | None
    parts: tuple[tuple[int | None, Callable[[], PartValues]], ...]
    record: Record


def import_postmortems(
    files: dict[str, str], summary: ImportSummary, *, update: bool = True
) -> None:
    """Import postmortem files, each in its own transaction; one named as the recurrence of
    another waits for it, whatever order the files come in. One whose key exists is compared
    with its file: unchanged, it is skipped; changed, it is updated (with `update`). Two files
    with one key are both refused: which of them is the postmortem, nobody but their author
    knows, and keeping the first by its file name would be a guess."""
    by_key: dict[str, list[tuple[str, ParsedPostmortem]]] = {}
    for path in sorted(files):
        try:
            parsed = parse_postmortem(files[path])
        except ImportProblem as exc:
            summary.failed.append((exc.where(path), exc.reason))
            continue
        by_key.setdefault(parsed.key, []).append((path, parsed))
    waiting: dict[str, tuple[str, ParsedPostmortem]] = {}
    for key, claims in by_key.items():
        if len(claims) == 1:
            waiting[key] = claims[0]
            continue
        for path, parsed in claims:
            others = ", ".join(other for other, _ in claims if other != path)
            where = ImportProblem("", parsed.record.key_lines.get("key")).where(path)
            summary.failed.append(
                (where, f"key {key} is also in {others}: neither file is imported")
            )
    while waiting:
        ready = [
            key
            for key, (_, parsed) in waiting.items()
            if parsed.recurrence_of is None or parsed.recurrence_of not in waiting
        ]
        if not ready:  # a cycle of recurrences: import them and let the service refuse
            ready = sorted(waiting)[:1]
        for key in sorted(ready):
            path, parsed = waiting.pop(key)
            existing_id = session.scalar(select(Incident.id).where(Incident.key == key))
            if existing_id is None:
                if _one_file(summary, path, _writing(parsed)):
                    summary.postmortems += 1
                continue
            if not update:
                summary.skipped.append((path, f"{key} already exists"))
                continue
            try:
                unchanged = postmortem_file(load_incident_page(existing_id)) == files[path]
            finally:
                session.rollback()  # only read
            if unchanged:
                summary.skipped.append((path, UNCHANGED))
            elif _one_file(summary, path, _updating(existing_id, parsed)):
                summary.updated += 1


def _writing(parsed: "ParsedPostmortem") -> Callable[[], tuple[int, list[str]]]:
    def write() -> tuple[int, list[str]]:
        write_postmortem(parsed)
        return 1, []

    return write


def _updating(incident_id: int, parsed: "ParsedPostmortem") -> Callable[[], tuple[int, list[str]]]:
    def write() -> tuple[int, list[str]]:
        update_postmortem(load_incident_page(incident_id), parsed)
        return 0, []  # counted as updated by the caller

    return write


def parse_postmortem(text: str) -> ParsedPostmortem:
    """Read one postmortem file into plain values, or raise ImportProblem."""
    record, body, body_line = split_front_matter(text)
    f = Fields(record)
    version = f.integer("format")
    if version != FORMAT_VERSION:
        raise f.problem("format", f"expected {FORMAT_VERSION}, found {version}")
    values: dict[str, Any] = {
        "title": f.required_text("title"),
        "summary": f.text("summary"),
        "severity": f.enum("severity", Severity, Severity.SEV3),
        "affected_system": f.text("affected_system"),
        "environment": f.text("environment"),
        "tags": tuple(f.strings("tags")),
        "is_near_miss": f.flag("is_near_miss"),
        "exclude_from_metrics": f.flag("exclude_from_metrics"),
        "owner_name": f.text("owner_name"),
        "is_restricted": f.flag("is_restricted"),
        "started_at": f.instant("started_at"),  # the service requires it of our own
    }
    for moment in ("started", "detected", "mitigated", "resolved"):
        if moment != "started":
            values[f"{moment}_at"] = f.instant(f"{moment}_at")
        values[f"{moment}_is_estimated"] = f.flag(f"{moment}_is_estimated")
    values.update(_sections(body, body_line))
    source = f.mapping("source")
    source_values = None
    if source is not None:
        s = Fields(source)
        source_values = {
            "collection": s.required_text("collection"),
            "external_id": s.required_text("external_id"),
            "organisation": s.text("organisation"),
            "url": s.text("url"),
        }
        s.finish()
    elif values["started_at"] is None:  # only another organisation's may have no start
        raise ImportProblem("started_at: missing", record.key_lines.get("started_at", record.line))
    parts = (
        *each_record(f.records("timeline"), _timeline_event),
        *each_record(f.records("factors"), _factor),
        *each_record(f.records("impacts"), _impact),
        *each_record(f.records("lessons"), _lesson),
        *each_record(f.records("action_items"), _action),
    )
    parsed = ParsedPostmortem(
        key=f.required_text("key"),
        status=f.enum("status", IncidentStatus, IncidentStatus.DRAFT),
        values=values,
        team=f.optional_text("team"),
        recurrence_of=f.optional_text("recurrence_of"),
        author=f.optional_text("author"),
        owner=f.optional_text("owner"),
        access_users=tuple(f.strings("access_users")),
        created_at=f.instant("created_at"),
        updated_at=f.instant("updated_at"),
        source=source_values,
        parts=tuple(parts),
        record=record,
    )
    f.finish()
    return parsed


def _sections(body: str, first_line: int) -> dict[str, str]:
    """The Markdown sections of the body, each after its `<!-- section: name -->` mark."""
    sections: dict[str, str] = {}
    marks = list(SECTION_MARK.finditer(body))
    if body.strip() and (not marks or body[: marks[0].start()].strip()):
        raise ImportProblem("text before the first '<!-- section: ... -->' mark", first_line)
    for index, mark in enumerate(marks):
        name = mark.group(1)
        line = first_line + body.count("\n", 0, mark.start())
        if name not in SECTION_LABELS:
            raise ImportProblem(f"unknown section {name!r}", line)
        if name in sections:
            raise ImportProblem(f"section {name!r} appears twice", line)
        end = marks[index + 1].start() if index + 1 < len(marks) else len(body)
        chunk = body[mark.end() : end]
        heading = f"## {SECTION_LABELS[name]}\n\n"
        if not chunk.startswith(heading):
            raise ImportProblem(f"section {name!r}: expected the heading '{heading.strip()}'", line)
        text = chunk[len(heading) :]
        sections[name] = text[:-2] if text.endswith("\n\n") else text.rstrip("\n")
        nul = chunk.find("\x00")  # a NUL is named on its own line, a size on the mark's
        check_text(name, sections[name], line if nul < 0 else line + 1 + chunk.count("\n", 0, nul))
    return sections


# Each part's reader returns (line, a function making its values): the values need ids
# (factors, guards, accounts) that exist only once the files before were imported.
Part = tuple[int | None, Callable[[], PartValues]]


def _timeline_event(f: Fields) -> Part:
    at, text_md = f.required_instant("at"), f.required_text("text_md")
    return f.record.line, lambda: TimelineEventValues(at, text_md)


def _factor(f: Fields) -> Part:
    category, name = f.enum("category", CauseCategory), f.required_text("factor")
    note, is_primary, record = f.text("note"), f.flag("is_primary"), f.record

    def values() -> FactorValues:
        factor_id = session.scalar(
            select(ContributingFactor.id).where(
                ContributingFactor.category == category, ContributingFactor.name == name
            )
        )
        if factor_id is None:
            raise ImportProblem(f"factor: no factor {name!r} in {category.name}", record.line)
        return FactorValues(factor_id=factor_id, note=note, is_primary=is_primary)

    return record.line, values


def _impact(f: Fields) -> Part:
    impact = ImpactValues(
        kind=f.enum("kind", ImpactKind),
        low=f.decimal("low"),
        likely=f.decimal("likely"),
        high=f.decimal("high"),
        currency=f.text("currency"),
        unit=f.text("unit"),
        level=f.optional_enum("level", ImpactLevel),
        method_note=f.text("method_note"),
        estimated_by=f.text("estimated_by", limit=NAME_TEXT),
    )
    return f.record.line, lambda: impact


def _lesson(f: Fields) -> Part:
    lesson = LessonValues(f.enum("group", LessonGroup), f.required_text("text_md"))
    return f.record.line, lambda: lesson


def _action(f: Fields) -> Part:
    record = f.record
    owner_email = f.optional_text("owner_user")
    guard_names = f.strings("guards")
    base = ActionItemValues(
        title=f.required_text("title"),
        details_md=f.text("details_md"),
        group=f.enum("group", LessonGroup),
        type=f.enum("type", ActionType),
        owner=f.text("owner"),
        due_on=f.day("due_on"),
        status=f.enum("status", ActionStatus, ActionStatus.OPEN),
        wont_do_reason=f.text("wont_do_reason"),
        completed_on=f.day("completed_on"),
        tracker_url=f.text("tracker_url"),
    )

    def values() -> ActionItemValues:
        guard_ids = []
        for name in guard_names:
            guard_id = session.scalar(select(GuardCheck.id).where(GuardCheck.name == name))
            if guard_id is None:
                raise ImportProblem(f"guards: no guard check named {name!r}", record.line)
            guard_ids.append(guard_id)
        owner_id = _user_id(owner_email, record, "owner_user")
        return replace(base, owner_id=owner_id, guard_ids=tuple(guard_ids))

    return record.line, values


def write_postmortem(parsed: ParsedPostmortem, *, summary_text: str = "imported") -> Incident:
    """Create one parsed postmortem through the services (the caller commits)."""
    record = parsed.record
    values = _incident_values(parsed)
    author_id = _user_id(parsed.author, record, "author")
    author = session.get(User, author_id) if author_id is not None else None
    source = None if parsed.source is None else external_source(parsed.source)
    try:
        incident = create_incident(
            values, author=author, status=parsed.status, record=False, key=parsed.key, source=source
        )
    except DomainError as exc:
        raise _refused(record, exc) from exc
    add_parts(incident, parsed.parts)
    history.record_change(incident, summary_text)
    _keep_stamps(incident, parsed)
    return incident


def update_postmortem(incident: Incident, parsed: ParsedPostmortem) -> None:
    """Bring an existing postmortem (same key) in line with its file: its fields, status,
    author, source and parts; one revision records the change (the caller commits)."""
    record = parsed.record
    if (parsed.source is None) != (not incident.is_external):
        raise ImportProblem(
            "source: an external reference and one of our own postmortems cannot share a key",
            record.key_lines.get("source"),
        )
    values = _incident_values(parsed)
    try:
        update_incident(incident, values, editor=None, record=False)
    except DomainError as exc:
        raise _refused(record, exc) from exc
    if parsed.source is not None:
        set_source(incident, parsed.source)
    # As the file says: an import restores a state, it does not walk the review workflow.
    incident.status = parsed.status
    incident.author_id = _user_id(parsed.author, record, "author")
    old_parts: list[StoredPart] = [
        *incident.timeline,
        *incident.factors,
        *incident.impacts,
        *incident.lessons,
        *incident.action_items,
    ]
    for part in old_parts:
        delete_part(incident, part, record=False)
    add_parts(incident, parsed.parts)
    history.record_change(incident, "updated from an import")
    _keep_stamps(incident, parsed)


def _keep_stamps(incident: Incident, parsed: ParsedPostmortem) -> None:
    """When it was filed and last changed are part of the record, as the file gives them."""
    if parsed.created_at is not None:
        incident.created_at = parsed.created_at
    if parsed.updated_at is not None:
        incident.updated_at = parsed.updated_at
    session.flush()


def _incident_values(parsed: ParsedPostmortem) -> IncidentValues:
    """The incident's own values, with the teams, accounts and postmortems it names found."""
    record = parsed.record
    recurrence_id = None
    if parsed.recurrence_of is not None:
        by_key = select(Incident.id).where(Incident.key == parsed.recurrence_of)
        recurrence_id = session.scalar(by_key)
        if recurrence_id is None:
            raise ImportProblem(
                f"recurrence_of: no postmortem {parsed.recurrence_of}",
                record.key_lines.get("recurrence_of"),
            )
    access_ids = tuple(
        user_id
        for email in parsed.access_users
        if (user_id := _user_id(email, record, "access_users")) is not None
    )
    return IncidentValues(
        **parsed.values,
        team_id=_team_id(parsed.team, record),
        recurrence_of_id=recurrence_id,
        owner_id=_user_id(parsed.owner, record, "owner"),
        access_user_ids=access_ids,
    )


def add_parts(incident: Incident, parts: Iterable[Part]) -> None:
    """Add the parts as one batch: the incident is new or locked already (update_incident)."""
    for line, make in parts:
        with at_line(line):
            try:
                save_part(incident, make(), record=False, batch=True)
            except DomainError as exc:
                raise ImportProblem(f"refused: {exc.message}", line) from exc
    session.flush()


def external_source(
    source: dict[str, str], *, incident_id: int | None = None, checked: bool = False
) -> ExternalSource:
    """Check an external reference's `source` (collection, external_id, organisation, url):
    an http(s) link, and no other postmortem (than `incident_id`) from the same collection and
    id. `checked`: the caller has just looked for this collection and id and found none."""
    collection, external_id = source["collection"], source["external_id"]
    organisation, url = source["organisation"], source["url"]
    if url and not url.lower().startswith(("http://", "https://")):
        raise ImportProblem(f"source url: use an http:// or https:// link, not {url!r}")
    if not checked:
        stmt = select(Incident.id).where(
            Incident.source_collection == collection, Incident.external_id == external_id
        )
        if incident_id is not None:
            stmt = stmt.where(Incident.id != incident_id)
        if session.scalar(stmt) is not None:
            raise ImportProblem(f"source: {collection} {external_id} is already imported")
    return ExternalSource(collection, external_id, organisation, url)


def set_source(incident: Incident, source: dict[str, str]) -> None:
    """Keep an external reference's source (another organisation's, never counted) as given."""
    checked = external_source(source, incident_id=incident.id)
    incident.source_collection = checked.collection
    incident.external_id = checked.external_id[:200]
    incident.source_organisation = checked.organisation[:200]
    incident.source_url = checked.url[:1000]
