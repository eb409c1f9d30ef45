"""The import run: the files of an export in order (each may name rows of the ones before it),
one transaction per file, and the summary. A refused file leaves nothing behind and every
other file still imports."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from models import Incident
from postmortems.db import commit_change, session
from postmortems.domain import DomainError
from postmortems.incidents.service import load_incident_page
from postmortems.transfer.export_files import (
    GUARDS,
    PATHS,
    POSTMORTEMS_DIR,
    STAGES,
    TAXONOMY,
    TEAMS,
    USERS,
    postmortem_file,
)
from postmortems.transfer.files import Fields, ImportProblem, decode_text
from postmortems.transfer.front_matter import ParsedPostmortem, parse_postmortem
from postmortems.transfer.import_yaml import (
    import_guards,
    import_paths,
    import_stages,
    import_taxonomy,
    import_teams,
    import_users,
    yaml_file,
)
from postmortems.transfer.reimport import update_postmortem
from postmortems.transfer.write_postmortem import write_postmortem

UNCHANGED = "unchanged since the last import"  # the reason a file found again is skipped


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
        (TAXONOMY, import_taxonomy),
        (TEAMS, import_teams),
        (STAGES, import_stages),
        (USERS, import_users),
        (GUARDS, import_guards),
    ]
    texts = _decoded(files, {name for name, _ in readers} | {PATHS}, summary)
    for name, read in readers:
        if name in texts:
            _one_file(summary, name, _reading(read, texts[name]))
    postmortems = {path: text for path, text in texts.items() if _is_postmortem(path)}
    import_postmortems(postmortems, summary, update=update)
    if PATHS in texts:
        _one_file(summary, PATHS, _reading(import_paths, texts[PATHS]))
    known = {name for name, _ in readers} | {PATHS} | set(postmortems)
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
    return lambda: read(yaml_file(text))


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
