"""search on PostgreSQL: search_document.search_vector also holds its document's recency
bucket (`#<id >> 12>`), so that a common word's newest matches are found inside the GIN index

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 04:10:00

At 100,000 postmortems a common word ('threshold') matches 50,000 of 400,000 documents: the
GIN index alone builds a bitmap of all of them (25 ms before reading a row), and the planner
walks the table newest first instead, checking each row's vector and, for a reader, looking up
its postmortem's visibility until 1,001 visible matches are found (85 ms for a reader). With
the bucket in the vector, `word & ('#97' | '#96')` is answered by the GIN index skipping
through the word's postings to the newest buckets' (about 1 ms). The column is generated, so
it is made again from the stored text: no write path changes. SQLite keeps its FTS5 table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of postmortems/search/schema.py's statements as they were at 0020 (and 0019).
WORDS = (
    "setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')"
)
BUCKETED = f"({WORDS} || array_to_tsvector(ARRAY['#' || (id >> 12)::text]))"
UNBUCKETED = f"({WORDS})"


def _make_column(vector: str) -> None:
    conn = op.get_bind()
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_search_document_search_vector")
    conn.exec_driver_sql("ALTER TABLE search_document DROP COLUMN IF EXISTS search_vector")
    conn.exec_driver_sql(
        f"ALTER TABLE search_document ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS {vector} STORED"
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_search_document_search_vector ON search_document USING gin (search_vector)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _make_column(BUCKETED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _make_column(UNBUCKETED)
