"""Public postmortem collections imported as external reference postmortems: other
organisations' incidents, kept to learn from, readable and searchable, never counted as ours.

Two sources, each read into `ExternalRecord`s and written through the incident services:

- icco (github.com/icco/postmortems, `data/*.md`): YAML front matter (uuid, url, title,
  start_time, end_time, categories, keywords, company, product, summary, source_published_at,
  source_fetched_at, archive_url) and a Markdown description;
- moj (github.com/ministryofjustice/cloud-platform, `source/incidents/*.html.md.erb`): an
  incident log of bullets (Key events in London time, Identified, Impact, Context,
  Resolution, Review actions, ...).

Nothing is left out silently: whatever has no field of its own goes into a "Source details"
part of the "What happened" section. No date is made up: where a source states no start
time, the best date it does state is used and marked as an estimate, and said so; a record
that states no date at all keeps its start unknown ("start unknown" wherever it shows). A
start before 1970 (a shipwreck of 1628) is kept as the source states it. A record found again
(same collection and id) is updated when it changed, and skipped as unchanged otherwise.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import ActionStatus, ActionType, Incident, IncidentStatus, LessonGroup, Severity
from models.base import in_reference_range
from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.incidents import history
from postmortems.incidents.parts import (
    ActionItemValues,
    Part,
    PartValues,
    TimelineEventValues,
    delete_part,
    save_part,
)
from postmortems.incidents.service import IncidentValues, create_incident, update_incident
from postmortems.transfer.files import (
    NUL,
    NUL_REFUSED,
    ImportProblem,
    Record,
    decode_text,
    load_yaml,
    split_front_matter,
)
from postmortems.transfer.import_files import UNCHANGED, ImportSummary
from postmortems.transfer.write_postmortem import external_source, set_source

LONDON = ZoneInfo("Europe/London")
MOJ_ORGANISATION = "UK Ministry of Justice"
MOJ_URL = "https://github.com/ministryofjustice/cloud-platform/blob/main/source/incidents/{}"
URL = re.compile(r"https?://[^\s)\]>\"']+")
TITLE_LIMIT, SUMMARY_LIMIT = 200, 300


@dataclass
class ExternalRecord:
    """One source file read into the values of an incident and its parts."""

    collection: str
    external_id: str
    organisation: str
    url: str
    title: str
    started_at: datetime | None  # None: the source states no date at all
    started_is_estimated: bool = False
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    affected_system: str = ""
    what_happened: list[str] = field(default_factory=list)
    detection: str = ""
    response: str = ""
    tags: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # lines of the "Source details" part
    timeline: list[tuple[datetime, str]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def values(self) -> IncidentValues:
        sections = [part for part in self.what_happened if part.strip()]
        if self.details:
            sections.append("### Source details\n\n" + "\n".join(self.details))
        return IncidentValues(
            title=_cut(self.title, TITLE_LIMIT),
            summary=_cut(self.summary, SUMMARY_LIMIT),
            severity=Severity.SEV3,  # the sources grade none; external references never count
            affected_system=_cut(self.affected_system, 200),
            started_at=self.started_at,
            started_is_estimated=self.started_is_estimated,
            detected_at=self.detected_at,
            mitigated_at=self.mitigated_at,
            resolved_at=self.resolved_at,
            what_happened_md="\n\n".join(sections),
            detection_md=self.detection,
            response_md=self.response,
            tags=tuple(sorted({_cut(t, 60).lower() for t in self.tags if t.strip()})),
        )

    def parts(self) -> list[PartValues]:
        parts: list[PartValues] = [TimelineEventValues(at, text) for at, text in self.timeline]
        for text in self.actions:
            title = _cut(text.splitlines()[0], TITLE_LIMIT)
            parts.append(
                ActionItemValues(
                    title=title,
                    details_md=text if title != text else "",
                    # The source states none of these; they say "not stated" as best they can.
                    group=LessonGroup.TECHNICAL,
                    type=ActionType.PREVENTIVE,
                    status=ActionStatus.OPEN,
                )
            )
        return parts


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Files.


def source_files(path: Path, source_format: str) -> list[Path]:
    """The files of a collection: PATH itself, or the collection's files in the folder."""
    if path.is_file():
        return [path]
    pattern = "*.md" if source_format == "icco" else "*.md.erb"
    files = sorted(path.glob(pattern))
    if not files and (path / "data").is_dir():  # the repository's root given
        files = sorted((path / "data").glob(pattern))
    if not files and (path / "source" / "incidents").is_dir():
        files = sorted((path / "source" / "incidents").glob(pattern))
    return files


def import_file(path: Path, source_format: str, summary: ImportSummary) -> None:
    """Import one file of a collection as one transaction, noting the outcome in `summary`."""
    try:
        text = decode_text(path.read_bytes())
        if NUL in text:  # wherever it is (PostgreSQL stores none): the reader's fields mix
            raise ImportProblem(NUL_REFUSED, text.count("\n", 0, text.index(NUL)) + 1)
        record = READERS[source_format](path.name, text)
    except ImportProblem as exc:
        summary.failed.append((exc.where(path.name), exc.reason))
        return
    try:
        outcome = commit_change(lambda: write_record(record))
    except ImportProblem as exc:
        session.rollback()
        summary.failed.append((exc.where(path.name), exc.reason))
        return
    except DomainError as exc:
        session.rollback()
        summary.failed.append((path.name, exc.message))
        return
    if outcome == "imported":
        summary.imported += 1
    elif outcome == "updated":
        summary.updated += 1
    else:
        summary.skipped.append((path.name, UNCHANGED))


# Writing.


def write_record(record: ExternalRecord) -> str:
    """Create the external reference, or update it when the source changed; the outcome."""
    values = record.values()
    parts = record.parts()
    existing = session.scalar(
        select(Incident)
        .where(
            Incident.source_collection == record.collection,
            Incident.external_id == record.external_id,
        )
        .options(selectinload(Incident.timeline), selectinload(Incident.action_items))
    )
    if existing is None:
        incident = create_incident(
            values,
            author=None,
            status=IncidentStatus.PUBLISHED,
            record=False,
            key_kind="EXT",
            source=external_source(_source(record), checked=True),
        )
        for part in parts:  # one batch: the incident is new in this transaction
            save_part(incident, part, record=False, batch=True)
        session.flush()
        # No revision for the first import: the source file is its history (and the import
        # of a few hundred records stays within seconds); a later update records one.
        return "imported"
    if _same(existing, values, parts) and _source(record) == _source_of(existing):
        return "unchanged"
    update_incident(existing, values, editor=None, record=False)
    set_source(existing, _source(record))
    old_parts: list[Part] = [*existing.timeline, *existing.action_items]
    for old in old_parts:
        delete_part(existing, old, record=False)  # one revision for the file, below
    for part in parts:  # one batch: update_incident locked it
        save_part(existing, part, record=False, batch=True)
    history.record_change(existing, f"updated from {record.collection}")
    return "updated"


def _source(record: ExternalRecord) -> dict[str, str]:
    return {
        "collection": record.collection,
        "external_id": record.external_id,
        "organisation": _cut(record.organisation, 200),
        "url": record.url,
    }


def _source_of(incident: Incident) -> dict[str, str]:
    return {
        "collection": incident.source_collection or "",
        "external_id": incident.external_id or "",
        "organisation": incident.source_organisation,
        "url": incident.source_url,
    }


def _same(incident: Incident, values: IncidentValues, parts: list[PartValues]) -> bool:
    for name in IncidentValues.__dataclass_fields__:
        if name == "tags":
            if tuple(t.name for t in incident.tags) != values.tags:
                return False
        elif name == "access_user_ids":
            continue
        elif getattr(incident, name) != getattr(values, name):
            return False
    stored: list[PartValues] = [
        TimelineEventValues(e.at, e.text_md) for e in sorted(incident.timeline, key=lambda e: e.id)
    ]
    stored += [
        ActionItemValues(
            title=a.title, details_md=a.details_md, group=a.group, type=a.type, status=a.status
        )
        for a in incident.action_items
    ]
    return stored == parts


# icco/postmortems.

ICCO_FIELDS = {
    "uuid", "url", "title", "start_time", "end_time", "categories", "keywords", "company",
    "product", "summary", "source_published_at", "source_fetched_at", "archive_url",
}  # fmt: skip


def read_icco(name: str, text: str) -> ExternalRecord:
    fields, body, _ = split_front_matter(text)
    unknown = sorted(set(fields) - ICCO_FIELDS, key=str)
    if unknown:
        raise ImportProblem(f"unknown field {unknown[0]!r}", fields.key_lines.get(str(unknown[0])))
    uuid = _text(fields, "uuid") or name.removesuffix(".md")
    urls = URL.findall(_text(fields, "url"))
    company = _text(fields, "company")
    summary = _text(fields, "summary").strip()
    body = body.strip()
    details: list[str] = []
    start = _instant(fields, "start_time")
    end = _instant(fields, "end_time")
    published = _instant(fields, "source_published_at")
    fetched = _instant(fields, "source_fetched_at")
    archive = _text(fields, "archive_url")
    started_at, estimated = _icco_start(start, published, end, details)
    resolved_at = None
    if end is not None:
        if (
            in_reference_range(end)
            and started_at is not None
            and end >= started_at
            and not estimated
        ):
            resolved_at = end
        else:
            details.append(f"- End time as the source states it: {_shown(end)}")
    title = _text(fields, "title") or _first_sentence(summary or body) or f"{company} incident"
    if not _text(fields, "title"):
        details.append("- Title: the source gives none; this one is its summary's first words")
    if len(urls) > 1:
        details.append("- Further links: " + ", ".join(f"<{u}>" for u in urls[1:]))
    if company:
        details.append(f"- Organisation: {company}")
    for label, key in (("Product", "product"), ("Categories", "categories")):
        if fields.get(key):
            details.append(f"- {label}: {_listed(fields[key])}")
    if fields.get("keywords"):
        keywords = _listed(fields["keywords"])
        details.append(f"- Keywords (machine-extracted by the source): {keywords}")
    if published is not None:
        details.append(f"- Published: {_shown(published)}")
    if fetched is not None:
        details.append(f"- Fetched by the collection: {_shown(fetched)}")
    if archive:
        details.append(f"- Archived copy: <{archive}>")
    details.append(f"- From the icco/postmortems collection (GPL-3.0), record {uuid}")
    what_happened = [body] if body else []
    if summary and (not body or len(" ".join(summary.split())) > SUMMARY_LIMIT):
        what_happened.insert(0, summary)  # the whole summary, where the field cuts it short
    return ExternalRecord(
        collection="icco",
        external_id=uuid,
        organisation=company,
        url=urls[0] if urls else "",
        title=title,
        started_at=started_at,
        started_is_estimated=estimated,
        resolved_at=resolved_at,
        summary=summary or _first_sentence(body),
        affected_system=_text(fields, "product"),
        what_happened=what_happened,
        tags=_as_list(fields.get("categories")),
        details=details,
    )


def _icco_start(
    start: datetime | None, published: datetime | None, end: datetime | None, details: list[str]
) -> tuple[datetime | None, bool]:
    """The start, or the best date the source states, marked as an estimate; None (start
    unknown) when it states none."""
    if start is not None and in_reference_range(start):
        return start, False
    if start is not None:
        details.append(
            f"- Start time as the source states it: {_shown(start)}, outside the years this "
            "tracker stores (1000–2100)"
        )
    for label, value in (("publication date", published), ("end time", end)):
        if value is not None and in_reference_range(value):
            details.append(
                f"- Start time: {'not stated' if start is None else 'not storable'}; the "
                f"date shown is the source's {label}, an estimate"
            )
            return value, True
    details.append("- Start time: the source states no date for the incident; none is made up")
    return None, False


def _text(fields: Record, key: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise ImportProblem(f"{key}: expected text", fields.key_lines.get(key))
    return str(value)


def _instant(fields: Record, key: str) -> datetime | None:
    value = fields.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ImportProblem(
            f"{key}: {value!r} is not a date and time", fields.key_lines.get(key)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _shown(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _listed(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return _cut(match.group(1) if match else text, 120)


# ministryofjustice/cloud-platform incident log.

MOJ_LABELS = {
    "key events", "time to repair", "time to resolve", "identified", "impact", "context",
    "resolution", "review actions", "actions following review", "background", "status",
    "context/resolution/review actions",
}  # fmt: skip
BLOCK = re.compile(r"^ {0,2}- \*\*(?P<label>[^*]+?)\*\*:?[ \t]*(?P<rest>.*)$")
EVENT = re.compile(
    r"^- (?P<label>.+?):?\s+(?P<day>\d{4}-\d{2}-\d{2})(?:[ T]+(?P<h>\d{1,2})[:.](?P<m>\d{2}))?"
    r"(?P<after>.*)$"
)
STARTS = ("fault occurs", "first detected", "fault detected", "team aware", "incident declared")
DETECTS = ("first detected", "fault detected", "team aware", "incident declared")


def read_moj(name: str, text: str) -> ExternalRecord:
    front, body, body_line = _moj_front_matter(text)
    external_id = name.removesuffix(".html.md.erb").removesuffix(".md")
    title = str(front.get("title") or external_id)
    blocks: dict[str, str] = {}
    order: list[str] = []
    extra: list[str] = []
    label: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        heading = re.match(r"^# (.+)$", line)
        block = BLOCK.match(line)
        if heading and label is None and not extra:
            title = heading.group(1).strip()
        elif block and block.group("label").strip().lower() in MOJ_LABELS and not extra:
            if label is not None:
                blocks[label] = "\n".join(lines).strip("\n")
            label = block.group("label").strip().lower()
            if label in blocks:
                raise ImportProblem(f"'{block.group('label')}' appears twice", body_line)
            order.append(label)
            lines = [block.group("rest")] if block.group("rest") else []
        elif line.startswith("#") or extra:
            extra.append(line)  # headings after the bullets: kept as written
        elif label is not None:
            lines.append(line[2:] if line.startswith("  ") else line)
        elif line.strip():
            extra.append(line)
    if label is not None:
        blocks[label] = "\n".join(lines).strip("\n")
    if "key events" not in blocks:
        raise ImportProblem("no 'Key events' list: not an incident of this log", body_line)
    events = _key_events(blocks["key events"])
    details: list[str] = []
    times = _moj_times(events, blocks.get("status", ""), details)
    if "started" not in times:
        details.append("- Start time: no key event states a date; none is made up")
    impact = blocks.get("impact", "")
    what_happened = []
    for key, caption in (
        ("background", "Background"),
        ("impact", "Impact"),
        ("context", "Context"),
        ("context/resolution/review actions", "Context, resolution and review actions"),
    ):
        if blocks.get(key):
            what_happened.append(f"**{caption}**\n\n{blocks[key]}")
    if extra:
        what_happened.append("\n".join(extra).strip())
    for key, label_text in (
        ("time to repair", "Time to repair"),
        ("time to resolve", "Time to resolve"),
        ("status", "Status"),
    ):
        if blocks.get(key):
            details.append(f"- {label_text} (as the source states it): {blocks[key]}")
    details.append("- Key events as the source states them (London time):")
    details += [f"  - {event}" for _, event in events]
    details.append(
        "- Review actions: the source states no owner, group, type or status; they are "
        "listed as open preventive technical items"
    )
    details.append("- From the ministryofjustice/cloud-platform incident log (MIT)")
    actions_text = blocks.get("review actions") or blocks.get("actions following review", "")
    return ExternalRecord(
        collection="moj",
        external_id=external_id,
        organisation=MOJ_ORGANISATION,
        url=MOJ_URL.format(name),
        title=title,
        started_at=times.get("started", (None, False))[0],
        started_is_estimated=times.get("started", (None, False))[1],
        detected_at=times.get("detected", (None, False))[0],
        mitigated_at=times.get("mitigated", (None, False))[0],
        resolved_at=times.get("resolved", (None, False))[0],
        summary=impact.split("\n")[0] if impact else blocks.get("identified", ""),
        affected_system="Cloud Platform",
        what_happened=what_happened,
        detection=blocks.get("identified", ""),
        response=blocks.get("resolution", ""),
        details=details,
        timeline=[(at, text) for at, text in events if at is not None],
        actions=_bullets(actions_text),
    )


def _moj_front_matter(text: str) -> tuple[Record, str, int]:
    if text.startswith("---"):
        return split_front_matter(text)
    data = load_yaml("{}")
    return data, text, 1


def _key_events(block: str) -> list[tuple[datetime | None, str]]:
    """(instant in UTC, or None when the line gives no date; the line as written)."""
    events: list[tuple[datetime | None, str]] = []
    for line in block.splitlines():
        if not line.startswith("- "):
            continue
        match = EVENT.match(line)
        text = line[2:].strip()
        if match is None:
            events.append((None, text))
            continue
        try:
            local_day = date.fromisoformat(match.group("day"))
            at = time(int(match.group("h")), int(match.group("m"))) if match.group("h") else time()
        except ValueError:
            raise ImportProblem(f"key event '{text}': impossible date or time") from None
        instant = datetime.combine(local_day, at, LONDON).astimezone(UTC)
        events.append((instant, text))
    return events


def _moj_times(
    events: list[tuple[datetime | None, str]], status: str, details: list[str]
) -> dict[str, tuple[datetime, bool]]:
    """The incident's times from its key events: the first event of each kind; a time
    without an hour, or a start taken from detection or declaration, is an estimate. Times
    out of order (a typo in the source) stay in the timeline only, and the details say so."""
    found: dict[str, tuple[datetime, bool]] = {}

    def first(kinds: tuple[str, ...]) -> tuple[datetime, bool, str] | None:
        for kind in kinds:
            for at, text in events:
                if at is not None and text.lower().startswith(kind):
                    return at, not re.search(r"\d[:.]\d\d", text), kind
        return None

    start = first(STARTS)
    if start is not None:
        found["started"] = (start[0], start[1] or start[2] != "fault occurs")
    for name, kinds in (
        ("detected", DETECTS),
        ("mitigated", ("repaired",)),
        ("resolved", ("resolved",)),
    ):
        hit = first(kinds)
        if hit is not None:
            found[name] = (hit[0], hit[1])
    status_match = re.search(r"(\d{4}-\d{2}-\d{2}) (\d{1,2}):(\d{2}) UTC", status)
    if "resolved" not in found and status_match:
        day, hour, minute = status_match.groups()
        try:
            resolved = datetime.combine(date.fromisoformat(day), time(int(hour), int(minute)), UTC)
        except ValueError:
            raise ImportProblem(f"status: no such date or time {status_match.group(0)!r}") from None
        found["resolved"] = (resolved, False)
    previous: datetime | None = None
    for name in ("started", "detected", "mitigated", "resolved"):
        if name not in found:
            continue
        at = found[name][0]
        if previous is not None and at < previous:
            details.append(
                f"- {name.capitalize()} {_shown(at)} is before an earlier step as the source "
                "gives it (a typo there?): kept in the timeline only"
            )
            del found[name]
            continue
        previous = at
    return found


def _bullets(block: str) -> list[str]:
    """Top-level bullets of a block, each with its continuation lines."""
    items: list[list[str]] = []
    for line in block.splitlines():
        if line.startswith("- "):
            items.append([line[2:].strip()])
        elif items and line.strip():
            items[-1].append(line.strip())
        elif line.strip():
            items.append([line.strip()])
    return ["\n".join(item) for item in items if item[0]]


READERS: dict[str, Callable[[str, str], ExternalRecord]] = {"icco": read_icco, "moj": read_moj}
