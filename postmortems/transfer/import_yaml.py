"""Reading the YAML files of an export (taxonomy, teams, stages, users, guard checks, reading
paths) through their services."""

from sqlalchemy import select

from models import (
    CauseCategory,
    ContributingFactor,
    GrowthStage,
    GuardCheck,
    GuardKind,
    GuardStatus,
    ReadingPath,
    Role,
    Team,
    User,
)
from postmortems.auth.service import create_user, random_password
from postmortems.db import session
from postmortems.domain import DomainError
from postmortems.guards.service import GuardValues, create_guard
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.taxonomy.service import create_factor, update_factor
from postmortems.teams import service as teams
from postmortems.transfer.export_files import FORMAT_VERSION
from postmortems.transfer.files import Fields, ImportProblem, Record, at_line, load_yaml, refused
from postmortems.transfer.names import find_team, find_user


def yaml_file(text: str) -> Fields:
    data = load_yaml(text)
    if not isinstance(data, Record):
        raise ImportProblem("expected a mapping of fields at the top", 1)
    fields = Fields(data)
    version = fields.integer("format")
    if version != FORMAT_VERSION:
        raise fields.problem("format", f"expected {FORMAT_VERSION}, found {version}")
    return fields


def import_taxonomy(top: Fields) -> tuple[int, list[str]]:
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
            raise refused(record, exc) from exc
    top.finish()
    return added, []


def import_teams(top: Fields) -> tuple[int, list[str]]:
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
            raise refused(record, exc) from exc
        added += 1
    top.finish()
    return added, skipped


def import_stages(top: Fields) -> tuple[int, list[str]]:
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
            raise refused(record, exc) from exc
        added += 1
    top.finish()
    return added, skipped


def import_users(top: Fields) -> tuple[int, list[str]]:
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
                team_id=find_team(team_name, record),
                is_active=is_active,
            )
        except DomainError as exc:
            raise refused(record, exc) from exc
        if created_at is not None:
            user.created_at = created_at
        added += 1
    top.finish()
    return added, skipped


def import_guards(top: Fields) -> tuple[int, list[str]]:
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
            raise refused(record, exc) from exc
        # When it was added is part of the record: the quarterly review lists guards by it.
        guard.created_at = created_at or guard.created_at
        guard.updated_at = updated_at or guard.updated_at
        added += 1
    top.finish()
    return added, skipped


def import_paths(top: Fields) -> tuple[int, list[str]]:
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
        creator_id = find_user(creator, record, "created_by")
        try:
            path = create_path(
                PathValues(title, description, find_team(team_name, record), for_new_users),
                by=session.get(User, creator_id) if creator_id is not None else None,
            )
            for key, note, item in items:
                with at_line(item.record.line):
                    add_item(path, key, note, curator=None)
        except DomainError as exc:
            raise refused(record, exc) from exc
        path.created_at = created_at or path.created_at
        path.updated_at = updated_at or path.updated_at
        session.flush()
        added += 1
    top.finish()
    return added, skipped
