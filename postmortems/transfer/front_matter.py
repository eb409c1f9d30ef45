"""Reading one postmortem file (its front matter and its sections) into plain values, before
anything is written."""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from models import (
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardCheck,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    Severity,
)
from models.incident import SECTIONS
from postmortems.db import session
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    PartValues,
    TimelineEventValues,
)
from postmortems.limits import NAME_TEXT
from postmortems.markdown import markdown_limits
from postmortems.transfer.export_files import FORMAT_VERSION
from postmortems.transfer.files import (
    Fields,
    ImportProblem,
    Record,
    check_text,
    each_record,
    split_front_matter,
)
from postmortems.transfer.names import find_user

SECTION_LABELS = dict(SECTIONS)
SECTION_MARK = re.compile(r"^<!-- section: ([a-z_]+) -->\n", re.MULTILINE)


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
        # A section is Markdown: its length limit is the Markdown limits' (markdown.py).
        at = line if nul < 0 else line + 1 + chunk.count("\n", 0, nul)
        check_text(name, sections[name], at, markdown_limits().max_chars)
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
        decided_on=f.day("decided_on"),
        tracker_url=f.text("tracker_url"),
    )

    def values() -> ActionItemValues:
        guard_ids = []
        for name in guard_names:
            guard_id = session.scalar(select(GuardCheck.id).where(GuardCheck.name == name))
            if guard_id is None:
                raise ImportProblem(f"guards: no guard check named {name!r}", record.line)
            guard_ids.append(guard_id)
        owner_id = find_user(owner_email, record, "owner_user")
        return replace(base, owner_id=owner_id, guard_ids=tuple(guard_ids))

    return record.line, values
