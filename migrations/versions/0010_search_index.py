"""search: the search index (documents of stemmed words, FTS5 on SQLite, GIN on PostgreSQL)

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-28 23:55:00.000000

The full-text structures and the backfill are frozen here as they were when this migration
landed (the stemming of postmortems/search/text.py, the documents of postmortems/search/index.py),
so that later changes to the app cannot change what this migration does. If the app's stemming
changes later, `flask search reindex` makes the whole index again with today's code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import re
import unicodedata

import snowballstemmer

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# --- Frozen copy of the full-text structures (postmortems/search/schema.py at 0010) -------

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_document', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
SQLITE_TRIGGER_NAMES = ("search_document_ai", "search_document_ad", "search_document_au")
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_search_document_vector ON search_document USING gin ("
    "(setweight(to_tsvector('simple', title), 'A') || "
    "setweight(to_tsvector('simple', body), 'B')))"
)

# --- Frozen copy of the stemming (postmortems/search/text.py at 0010) -------------------

WORD = re.compile(r"[^\W_]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
MAX_WORD_LENGTH = 60


def _stemmers() -> tuple[object, object]:
    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


def _stem(word: str, russian: object, english: object) -> str:
    folded = word[:MAX_WORD_LENGTH].casefold().replace("ё", "е")
    if not (folded.isascii() or CYRILLIC.search(folded)):
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    if CYRILLIC.search(folded):
        stemmed = russian.stemWord(folded)  # type: ignore[attr-defined]
    elif LATIN.search(folded):
        stemmed = english.stemWord(folded)  # type: ignore[attr-defined]
    else:
        stemmed = folded
    return str(stemmed or folded)


def _stemmed(text: str, stemmers: tuple[object, object]) -> str:
    return " ".join(_stem(m.group(), *stemmers) for m in WORD.finditer(text or ""))


# --- Frozen copy of the backfill (postmortems/search/index.py at 0010) ------------------

SECTIONS = (
    'summary', 'affected_system', 'what_happened_md', 'analysis_md', 'detection_md',
    'response_md', 'went_well_md', 'got_lucky_md',
)
incident_t = sa.table('incident', *(sa.column(n) for n in ('id', 'key', 'title', *SECTIONS)))
timeline_t = sa.table('timeline_event', sa.column('id'), sa.column('incident_id'), sa.column('text_md'))
factor_t = sa.table('incident_factor', sa.column('id'), sa.column('incident_id'), sa.column('note'))
tag_t = sa.table('tag', sa.column('id'), sa.column('name'))
incident_tag_t = sa.table('incident_tag', sa.column('incident_id'), sa.column('tag_id'))
lesson_t = sa.table('lesson', sa.column('id'), sa.column('incident_id'), sa.column('text_md'))
action_t = sa.table(
    'action_item', sa.column('id'), sa.column('incident_id'), sa.column('title'),
    sa.column('details_md'),
)
guard_t = sa.table(
    'guard_check', sa.column('id'), sa.column('name'), sa.column('location'),
    sa.column('description_md'),
)
document_t = sa.table(
    'search_document', sa.column('kind'), sa.column('object_id'), sa.column('incident_id'),
    sa.column('title'), sa.column('body'),
)


def _by_incident(conn: sa.Connection, stmt: sa.Select) -> dict[int, list[str]]:  # type: ignore[type-arg]
    found: dict[int, list[str]] = {}
    for incident_id, value in conn.execute(stmt):
        if value:
            found.setdefault(incident_id, []).append(value)
    return found


def _backfill(conn: sa.Connection) -> None:
    """Every postmortem (with its timeline, factor notes and tags), lesson, action item and
    guard check as one document of stemmed words, as the app wrote them at 0010."""
    stemmers = _stemmers()
    timeline = _by_incident(
        conn, sa.select(timeline_t.c.incident_id, timeline_t.c.text_md).order_by(timeline_t.c.id)
    )
    notes = _by_incident(
        conn, sa.select(factor_t.c.incident_id, factor_t.c.note).order_by(factor_t.c.id)
    )
    tags = _by_incident(
        conn,
        sa.select(incident_tag_t.c.incident_id, tag_t.c.name)
        .join(tag_t, tag_t.c.id == incident_tag_t.c.tag_id)
        .order_by(tag_t.c.name),
    )
    rows = []

    def add(kind: str, object_id: int, incident_id: int | None, title: str, body: str) -> None:
        rows.append({
            'kind': kind, 'object_id': object_id, 'incident_id': incident_id,
            'title': _stemmed(title, stemmers), 'body': _stemmed(body, stemmers),
        })

    for r in conn.execute(sa.select(incident_t)):
        parts = [getattr(r, name) or '' for name in SECTIONS]
        parts += timeline.get(r.id, []) + notes.get(r.id, []) + tags.get(r.id, [])
        add('incident', r.id, r.id, f'{r.title} {r.key}', '\n'.join(parts))
    for r in conn.execute(sa.select(lesson_t)):
        add('lesson', r.id, r.incident_id, '', r.text_md)
    for r in conn.execute(sa.select(action_t)):
        add('action', r.id, r.incident_id, r.title, r.details_md or '')
    for r in conn.execute(sa.select(guard_t)):
        add('guard', r.id, None, r.name, f"{r.location or ''}\n{r.description_md or ''}")
    for start in range(0, len(rows), 1000):
        conn.execute(sa.insert(document_t), rows[start : start + 1000])


def upgrade() -> None:
    op.create_table(
        'search_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_document')),
        sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_search_document_kind')),
    )
    op.create_index(
        'ix_search_document_incident_id', 'search_document', ['incident_id'], unique=False
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_incident_affected_system'), ['affected_system'], unique=False
        )
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        conn.exec_driver_sql(SQLITE_TABLE)
        _backfill(conn)  # before the triggers: the FTS table is filled once, below
        for statement in SQLITE_TRIGGERS:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    else:
        _backfill(conn)
        conn.exec_driver_sql(POSTGRESQL_INDEX)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        for name in SQLITE_TRIGGER_NAMES:
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS {name}')
        conn.exec_driver_sql('DROP TABLE IF EXISTS search_fts')
    else:
        conn.exec_driver_sql('DROP INDEX IF EXISTS ix_search_document_vector')
    op.drop_index('ix_search_document_incident_id', table_name='search_document')
    op.drop_table('search_document')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_affected_system'))
