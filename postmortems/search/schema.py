"""The full-text structures over `search_document` that are not models, for each database.
Migrations 0010 and 0019 created them from frozen copies of these statements; `rebuild` (index.py)
uses them."""

from sqlalchemy import Connection

# SQLite: an FTS5 table over search_document's stemmed columns (external content: the words
# are stored once, in search_document), kept in step by triggers.
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

# PostgreSQL: a stored tsvector column generated from the stemmed columns (migration 0019),
# with a GIN index over it; the title weighs more than the body, as in SQLite's bm25 weights.
# Stored, so that checking and ranking a match read the vector instead of parsing the text again.
VECTOR_COLUMN = "search_vector"
POSTGRESQL_VECTOR = (
    "(setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B'))"
)
# Queries name the column with its table: they join tables that have a `title` too.
POSTGRESQL_QUERY_VECTOR = f"search_document.{VECTOR_COLUMN}"
POSTGRESQL_INDEX_NAME = "ix_search_document_search_vector"
POSTGRESQL_COLUMN = (
    f"ALTER TABLE search_document ADD COLUMN {VECTOR_COLUMN} tsvector "
    f"GENERATED ALWAYS AS {POSTGRESQL_VECTOR} STORED"
)
POSTGRESQL_INDEX = (
    f"CREATE INDEX {POSTGRESQL_INDEX_NAME} ON search_document USING gin ({VECTOR_COLUMN})"
)

# Names of these structures, for tools that compare the database with the models.
UNMODELLED_PREFIX = "search_fts"
UNMODELLED_NAMES = {POSTGRESQL_INDEX_NAME, VECTOR_COLUMN}


def create(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(SQLITE_TABLE)
        create_triggers(conn)
    else:
        conn.exec_driver_sql(POSTGRESQL_COLUMN)
        conn.exec_driver_sql(POSTGRESQL_INDEX)


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        drop_triggers(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    else:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {POSTGRESQL_INDEX_NAME}")
        conn.exec_driver_sql(f"ALTER TABLE search_document DROP COLUMN IF EXISTS {VECTOR_COLUMN}")


def create_triggers(conn: Connection) -> None:
    for statement in SQLITE_TRIGGERS:
        conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    for name in SQLITE_TRIGGER_NAMES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
