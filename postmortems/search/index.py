"""The search index: what each searchable thing contributes, and keeping it in step.

Every postmortem, lesson, action item and guard check is one row of `search_document` with its
stemmed title and body (see text.py). SQLite reads them through the FTS5 table `search_fts`
(kept in step with the rows by triggers), PostgreSQL through a GIN index over
`to_tsvector('simple', …)` of the same columns: both match the same stems.

The index follows every write by itself: the functions at the end of this module note the
postmortems and guard checks that a flush wrote, and rewrite their rows just before the
transaction commits (postmortems/commit.py calls them, first of its subscribers). One place,
so that no write path (views, CLI, demo, restore, API, import) can forget it. The queries here
are plain Core over lightweight tables (migration 0010 keeps a frozen copy for its backfill).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Connection, column, delete, func, insert, select, table
from sqlalchemy.orm import ORMExecuteState, Session

from models.incident import SECTION_NAMES
from postmortems.markdown import (
    HTML_COLUMN_NAMED,
    MARKDOWN_FIELD_NAMES,
    plain_text,
    render_markdown,
)
from postmortems.search import schema
from postmortems.search.text import stemmed_text

# Markdown columns come with their stored HTML: results show the text as read (see as_read).
incident_t = table(
    "incident",
    *(
        column(name)
        for name in (
            "id",
            "key",
            "title",
            "summary",
            "affected_system",
            *SECTION_NAMES,
            *(HTML_COLUMN_NAMED[name] for name in SECTION_NAMES),
        )
    ),
)
SECTIONS = ("summary", "affected_system", *SECTION_NAMES)
timeline_t = table(
    "timeline_event", column("id"), column("incident_id"), column("text_md"), column("text_html")
)
factor_t = table(
    "incident_factor", column("id"), column("incident_id"), column("note"), column("note_html")
)
tag_t = table("tag", column("id"), column("name"))
incident_tag_t = table("incident_tag", column("incident_id"), column("tag_id"))
lesson_t = table(
    "lesson", column("id"), column("incident_id"), column("text_md"), column("text_html")
)
action_t = table(
    "action_item",
    column("id"),
    column("incident_id"),
    column("title"),
    column("details_md"),
    column("details_html"),
)
guard_t = table(
    "guard_check",
    column("id"),
    column("name"),
    column("location"),
    column("description_md"),
    column("description_html"),
)
document_t = table(
    "search_document",
    column("id"),
    column("kind"),
    column("object_id"),
    column("incident_id"),
    column("title"),
    column("body"),
)

INCIDENT, LESSON, ACTION, GUARD = "incident", "lesson", "action", "guard"
CHUNK = 500  # ids per IN (…)


@dataclass(frozen=True)
class Document:
    """One searchable thing's own words, before stemming."""

    kind: str
    object_id: int
    incident_id: int | None
    title: str
    body: str

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "object_id": self.object_id,
            "incident_id": self.incident_id,
            "title": stemmed_text(self.title),
            "body": stemmed_text(self.body),
        }


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _by_incident(conn: Connection, stmt: Any, name: str, read: "Reader") -> dict[int, list[str]]:
    """Each incident's values of the column `name`, read by `read`, in the statement's order."""
    found: dict[int, list[str]] = {}
    for row in conn.execute(stmt):
        if value := read(row, name):
            found.setdefault(row.incident_id, []).append(value)
    return found


# How a document's Markdown columns are read: as written (what the index stems) or as read.
Reader = Callable[[Any, str], str]


def as_written(row: Any, name: str) -> str:
    return getattr(row, name) or ""


def as_read(row: Any, name: str) -> str:
    """A column's text as the reader sees it on the page: a Markdown column's stored HTML
    without its tags (rendered now where none is stored), so that results show no asterisks,
    backticks or table pipes."""
    source = getattr(row, name) or ""
    if name not in MARKDOWN_FIELD_NAMES or not source:
        return source
    html = getattr(row, HTML_COLUMN_NAMED[name])
    return plain_text(html if html is not None else str(render_markdown(source)))


def _columns(t: Any, read: Reader, *names: str) -> list[Any]:
    """The columns to select: with each Markdown column's HTML when reading as read."""
    wanted = list(names)
    if read is as_read:
        wanted += [HTML_COLUMN_NAMED[n] for n in names if n in MARKDOWN_FIELD_NAMES]
    return [t.c[n] for n in wanted]


def incident_documents(
    conn: Connection, ids: Sequence[int], read: Reader = as_written
) -> list[Document]:
    """The postmortems with these ids (title, key, summary, every section, timeline, factor
    notes, tags), without their lessons and action items."""
    timeline = _by_incident(
        conn,
        select(*_columns(timeline_t, read, "incident_id", "text_md"))
        .where(timeline_t.c.incident_id.in_(ids))
        .order_by(timeline_t.c.id),
        "text_md",
        read,
    )
    notes = _by_incident(
        conn,
        select(*_columns(factor_t, read, "incident_id", "note"))
        .where(factor_t.c.incident_id.in_(ids))
        .order_by(factor_t.c.id),
        "note",
        read,
    )
    tags = _by_incident(
        conn,
        select(incident_tag_t.c.incident_id, tag_t.c.name)
        .join(tag_t, tag_t.c.id == incident_tag_t.c.tag_id)
        .where(incident_tag_t.c.incident_id.in_(ids))
        .order_by(tag_t.c.name),
        "name",
        read,
    )
    documents = []
    columns = _columns(incident_t, read, "id", "key", "title", *SECTIONS)
    for row in conn.execute(select(*columns).where(incident_t.c.id.in_(ids))):
        parts = [read(row, name) for name in SECTIONS]
        parts += timeline.get(row.id, []) + notes.get(row.id, []) + tags.get(row.id, [])
        documents.append(
            Document(INCIDENT, row.id, row.id, f"{row.title} {row.key}", "\n".join(parts))
        )
    return documents


def lesson_documents(conn: Connection, where: Any, read: Reader = as_written) -> list[Document]:
    stmt = select(*_columns(lesson_t, read, "id", "incident_id", "text_md")).where(where)
    return [
        Document(LESSON, r.id, r.incident_id, "", read(r, "text_md")) for r in conn.execute(stmt)
    ]


def action_documents(conn: Connection, where: Any, read: Reader = as_written) -> list[Document]:
    columns = _columns(action_t, read, "id", "incident_id", "title", "details_md")
    return [
        Document(ACTION, r.id, r.incident_id, r.title, read(r, "details_md"))
        for r in conn.execute(select(*columns).where(where))
    ]


def guard_documents(
    conn: Connection, ids: Sequence[int], read: Reader = as_written
) -> list[Document]:
    columns = _columns(guard_t, read, "id", "name", "location", "description_md")
    return [
        Document(GUARD, r.id, None, r.name, f"{r.location or ''}\n{read(r, 'description_md')}")
        for r in conn.execute(select(*columns).where(guard_t.c.id.in_(ids)))
    ]


def documents_of(conn: Connection, kind: str, ids: Sequence[int]) -> list[Document]:
    """The documents of one kind with these object ids, as read (for showing results)."""
    if kind == INCIDENT:
        return incident_documents(conn, ids, as_read)
    if kind == LESSON:
        return lesson_documents(conn, lesson_t.c.id.in_(ids), as_read)
    if kind == ACTION:
        return action_documents(conn, action_t.c.id.in_(ids), as_read)
    return guard_documents(conn, ids, as_read)


def reindex_incidents(conn: Connection, incident_ids: Iterable[int]) -> None:
    """Rewrite the index rows of these postmortems and their parts (a deleted one's go)."""
    for ids in _chunks(incident_ids):
        conn.execute(delete(document_t).where(document_t.c.incident_id.in_(ids)))
        documents = chain(
            incident_documents(conn, ids),
            lesson_documents(conn, lesson_t.c.incident_id.in_(ids)),
            action_documents(conn, action_t.c.incident_id.in_(ids)),
        )
        _replace(conn, [d.row() for d in documents])


def _replace(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert these rows, first removing any left under the same (kind, object id): a row
    whose postmortem went behind the session's back (a bulk DELETE) may hold a reused id."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["object_id"])
    for kind, object_ids in by_kind.items():
        for ids in _chunks(object_ids):
            conn.execute(
                delete(document_t).where(document_t.c.kind == kind, document_t.c.object_id.in_(ids))
            )
    if rows:
        conn.execute(insert(document_t), rows)


def purge_orphans(conn: Connection) -> None:
    """Remove the rows of postmortems and guard checks that no longer exist."""
    conn.execute(
        delete(document_t).where(
            document_t.c.incident_id.is_not(None),
            document_t.c.incident_id.not_in(select(incident_t.c.id)),
        )
    )
    conn.execute(
        delete(document_t).where(
            document_t.c.kind == GUARD, document_t.c.object_id.not_in(select(guard_t.c.id))
        )
    )


def reindex_guards(conn: Connection, guard_ids: Iterable[int]) -> None:
    for ids in _chunks(guard_ids):
        conn.execute(
            delete(document_t).where(document_t.c.kind == GUARD, document_t.c.object_id.in_(ids))
        )
        _replace(conn, [d.row() for d in guard_documents(conn, ids)])


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None) -> int:
    """Make the whole index again from the stored rows; returns the number of documents.
    `progress(done, total)` hears how many postmortems are done. On SQLite the FTS table is
    filled once at the end rather than row by row (several times faster at 100,000)."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        schema.drop_triggers(conn)
    conn.execute(delete(document_t))
    incident_ids = list(conn.scalars(select(incident_t.c.id).order_by(incident_t.c.id)))
    step = 5 * CHUNK
    for start in range(0, len(incident_ids), step):
        reindex_incidents(conn, incident_ids[start : start + step])
        if progress is not None:
            progress(min(start + step, len(incident_ids)), len(incident_ids))
    reindex_guards(conn, list(conn.scalars(select(guard_t.c.id))))
    if sqlite:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        schema.create_triggers(conn)
    return conn.scalar(select(func.count()).select_from(document_t)) or 0


# Keeping the index in step with the session's writes.

PENDING = "search_pending"
BULK_DELETED = "search_bulk_deleted"
# Tables whose rows a bulk DELETE (not through the session's objects) may take from the index.
INDEXED_TABLES = {
    "incident",
    "timeline_event",
    "incident_factor",
    "lesson",
    "action_item",
    "guard_check",
    "tag",
    "incident_tag",
}


def note_flush(db_session: Session) -> None:
    """After each flush: which postmortems and guard checks did it write?"""
    from models import ActionItem, GuardCheck, Incident, IncidentFactor, Lesson, TimelineEvent

    parts = (TimelineEvent, IncidentFactor, Lesson, ActionItem)
    incidents, guards = db_session.info.setdefault(PENDING, (set(), set()))
    for obj in chain(db_session.new, db_session.dirty, db_session.deleted):
        # Read what is loaded only: a deleted row cannot load anything more.
        if isinstance(obj, Incident):
            incidents.add(obj.__dict__.get("id"))
        elif isinstance(obj, parts):
            incidents.add(obj.__dict__.get("incident_id"))
        elif isinstance(obj, GuardCheck):
            guards.add(obj.__dict__.get("id"))
    incidents.discard(None)
    guards.discard(None)


def note_statement(state: ORMExecuteState) -> None:
    """A DELETE statement run through the session (`session.execute(delete(Incident))`)
    names no objects: its rows are found missing at commit."""
    if state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in INDEXED_TABLES:
            state.session.info[BULK_DELETED] = True


def write_pending(db_session: Session) -> None:
    """Before commit: rewrite the index rows of what this transaction wrote."""
    incidents, guards = db_session.info.pop(PENDING, (set(), set()))
    bulk_deleted = db_session.info.pop(BULK_DELETED, False)
    if incidents or guards or bulk_deleted:
        conn = db_session.connection()
        if bulk_deleted:
            purge_orphans(conn)
        reindex_incidents(conn, incidents)
        reindex_guards(conn, guards)


def forget_pending(db_session: Session) -> None:
    db_session.info.pop(PENDING, None)
    db_session.info.pop(BULK_DELETED, None)
