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

Here: finding a collection's files and writing each record; the readers are public_icco.py
and public_moj.py, the record they both give is public_record.py.
"""

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Incident, IncidentStatus
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
from postmortems.transfer.files import NUL, NUL_REFUSED, ImportProblem, decode_text
from postmortems.transfer.import_files import UNCHANGED, ImportSummary
from postmortems.transfer.public_icco import read_icco
from postmortems.transfer.public_moj import read_moj
from postmortems.transfer.public_record import ExternalRecord, cut
from postmortems.transfer.write_postmortem import external_source, set_source


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
        "organisation": cut(record.organisation, 200),
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


READERS: dict[str, Callable[[str, str], ExternalRecord]] = {"icco": read_icco, "moj": read_moj}
