"""Reading one postmortem file (its front matter and its sections) into plain values, before
anything is written."""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from models import ContributingFactor, GuardCheck, IncidentStatus
from models.incident import SECTION_NAMES, SECTIONS
from postmortems.api.schemas import FactorIn, LessonIn, TimelineEventIn
from postmortems.api.values import impact_values
from postmortems.db import session
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    LessonValues,
    PartValues,
    TimelineEventValues,
    read_amount,
)
from postmortems.markdown import markdown_limits
from postmortems.timezones import from_local
from postmortems.transfer.export_files import FORMAT_VERSION
from postmortems.transfer.file_models import (
    ActionItemFile,
    ImpactFile,
    Loc,
    first_problem,
    read_front_matter,
)
from postmortems.transfer.files import Fields, ImportProblem, Record, check_text, split_front_matter
from postmortems.transfer.names import find_user

M = TypeVar("M")
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
    """Read one postmortem file into plain values, or raise ImportProblem. Its fields are
    checked by the API's models (file_models.py); what they name is looked up later."""
    record, body, body_line = split_front_matter(text)
    top = Fields(record)
    version = top.integer("format")
    if version != FORMAT_VERSION:
        raise top.problem("format", f"expected {FORMAT_VERSION}, found {version}")
    sections, section_lines = _sections(body, body_line)
    pm = read_front_matter(record, sections, section_lines)
    values: dict[str, Any] = {
        name: getattr(pm, name)
        for name in (
            "title",
            "summary",
            "severity",
            "affected_system",
            "environment",
            "is_near_miss",
            "exclude_from_metrics",
            "owner_name",
            "is_restricted",
            *SECTION_NAMES,
        )
    }
    values["tags"] = tuple(pm.tags)
    for moment in ("started", "detected", "mitigated", "resolved"):
        name = f"{moment}_at"
        values[name] = _instant(getattr(pm, name), (name,), record)
        values[f"{moment}_is_estimated"] = getattr(pm, f"{moment}_is_estimated")
    if pm.source is None and values["started_at"] is None:  # only another organisation's
        raise ImportProblem("started_at: missing", record.key_lines.get("started_at", record.line))
    parts = (
        *_each(record, "timeline", pm.timeline, _timeline_event),
        *_each(record, "factors", pm.factors, _factor),
        *_each(record, "impacts", pm.impacts, _impact),
        *_each(record, "lessons", pm.lessons, _lesson),
        *_each(record, "action_items", pm.action_items, _action),
    )
    return ParsedPostmortem(
        key=pm.key,
        status=pm.status,
        values=values,
        team=pm.team,
        recurrence_of=pm.recurrence_of,
        author=pm.author,
        owner=pm.owner,
        access_users=tuple(pm.access_users),
        created_at=_instant(pm.created_at, ("created_at",), record),
        updated_at=_instant(pm.updated_at, ("updated_at",), record),
        source=None if pm.source is None else pm.source.model_dump(),
        parts=tuple(parts),
        record=record,
    )


def _instant(value: datetime | None, loc: Loc, record: Record) -> datetime | None:
    """An aware instant: text without an offset is read in the configured zone, as the API
    reads it. Its year is the service's to judge (another organisation's may be 1628)."""
    if value is None or value.tzinfo is not None:
        return value
    try:
        return from_local(value)
    except (OverflowError, ValueError):  # the first or last day of the calendar
        raise first_problem([(loc, "give the time with its offset (Z)")], record, {}) from None


def _sections(body: str, first_line: int) -> tuple[dict[str, str], dict[str, int]]:
    """The Markdown sections of the body, each after its `<!-- section: name -->` mark, and
    the line of each mark."""
    sections: dict[str, str] = {}
    lines: dict[str, int] = {}
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
        lines[name] = line
    return sections, lines


# Each part's reader returns (line, a function making its values): the values need ids
# (factors, guards, accounts) that exist only once the files before were imported.
Part = tuple[int | None, Callable[[], PartValues]]


def _each(
    record: Record, name: str, items: Sequence[M], read: Callable[[M, Record, Loc, Record], Part]
) -> Iterator[Part]:
    """Each part of the list `name`, read with its own mapping in the file (for its lines)."""
    rows = record.get(name) or []
    for index, item in enumerate(items):
        yield read(item, rows[index], (name, index), record)


def _timeline_event(event: TimelineEventIn, row: Record, loc: Loc, top: Record) -> Part:
    at = _instant(event.at, (*loc, "at"), top)
    assert at is not None  # required by the model
    return row.line, lambda: TimelineEventValues(at, event.text_md)


def _factor(factor: FactorIn, row: Record, loc: Loc, top: Record) -> Part:
    def values() -> FactorValues:
        factor_id = session.scalar(
            select(ContributingFactor.id).where(
                ContributingFactor.category == factor.category,
                ContributingFactor.name == factor.factor,
            )
        )
        if factor_id is None:
            raise ImportProblem(
                f"factor: no factor {factor.factor!r} in {factor.category.name}", row.line
            )
        return FactorValues(factor_id=factor_id, note=factor.note, is_primary=factor.is_primary)

    return row.line, values


def _impact(impact: ImpactFile, row: Record, loc: Loc, top: Record) -> Part:
    def amount(name: str) -> Decimal | None:
        value = getattr(impact, name)
        try:
            return None if value is None else read_amount(value)  # the impact service's rule
        except ValueError as exc:
            raise first_problem([((*loc, name), str(exc))], top, {}) from None

    values = impact_values(impact, amount)
    return row.line, lambda: values


def _lesson(lesson: LessonIn, row: Record, loc: Loc, top: Record) -> Part:
    values = LessonValues(lesson.group, lesson.text_md)
    return row.line, lambda: values


def _action(item: ActionItemFile, row: Record, loc: Loc, top: Record) -> Part:
    base = ActionItemValues(
        title=item.title,
        details_md=item.details_md,
        group=item.group,
        type=item.type,
        owner=item.owner,
        due_on=item.due_on,
        status=item.status,
        wont_do_reason=item.wont_do_reason,
        completed_on=item.completed_on,
        decided_on=item.decided_on,
        tracker_url=item.tracker_url,
    )

    def values() -> ActionItemValues:
        guard_ids = []
        for name in item.guards:
            guard_id = session.scalar(select(GuardCheck.id).where(GuardCheck.name == name))
            if guard_id is None:
                raise ImportProblem(f"guards: no guard check named {name!r}", row.line)
            guard_ids.append(guard_id)
        owner_id = find_user(item.owner_email, row, "owner_user")
        return replace(base, owner_id=owner_id, guard_ids=tuple(guard_ids))

    return row.line, values
