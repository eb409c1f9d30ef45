"""The database engine, the request-scoped session, and the one place a transaction commits."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g
from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FromClause
from werkzeug.local import LocalProxy
from werkzeug.routing import IntegerConverter, Map

from postmortems.domain import ConflictError, DomainError
from postmortems.files import create_private_file

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER
# Statements that begin with these words only read; any other statement in a transaction
# that has only read so far makes it take SQLite's write lock first (see make_engine).
READING_WORDS = {"SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES"}
CONFLICT_MESSAGE = (
    "Someone else saved a change at the same moment, so nothing of yours was saved. "
    "Your text is kept here: check it and save again."
)
T = TypeVar("T")


def _sqlite_index_hint(self: SQLCompiler, table: FromClause, text: str | None) -> str | None:
    return text


# `select().with_hint(Model, "INDEXED BY ix_…", "sqlite")` renders SQLite's INDEXED BY (the SQLite
# compiler drops table hints otherwise). Used where a query reads many rows in an index's order
# and SQLite, without statistics, would rather sort them all (see incidents.service).
SQLiteCompiler.get_from_hint_text = _sqlite_index_hint  # type: ignore[method-assign]


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database or ":memory:"
    # Created 0600 before SQLite opens it; its -wal and -shm files take the same mode. (In a
    # directory that is not there, SQLite's own error says so on first use.)
    on_disk = database != ":memory:" and not database.startswith("file:")
    if on_disk and Path(database).parent.is_dir():
        create_private_file(Path(database))
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is off so that we choose how each one begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        conn.info["sqlite_writing"] = None  # BEGIN itself is no write
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info["sqlite_writing"] = immediate

    @event.listens_for(engine, "before_cursor_execute")
    def _sqlite_lock_before_writing(
        conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        # A transaction begins deferred and reads without any lock (WAL). Its first write
        # would need SQLite to upgrade it to a writer, which fails at once, whatever the busy
        # timeout, when another writer committed since it read. So before that first write the
        # transaction ends its reading (it has written nothing) and begins again IMMEDIATE,
        # waiting its turn for the write lock: the lock is held only from the first write to
        # the commit, never while a request renders, hashes or reads. Reads made before see
        # the data as it was then, as under PostgreSQL's READ COMMITTED; a change based on
        # them is still checked by row versions and unique constraints. SELECT … FOR UPDATE
        # (rendered without the clause on SQLite) takes the write lock too: it is a promise
        # to write what it read.
        if conn.info.get("sqlite_writing") is not False:
            return
        if _only_reads(statement, context):
            return
        dbapi_connection = cursor.connection
        dbapi_connection.execute("COMMIT")
        conn.info["sqlite_writing"] = True  # before BEGIN: if it times out, nothing is open
        dbapi_connection.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _sqlite_end(conn: Any) -> None:
        conn.info["sqlite_writing"] = None

    return engine


def _only_reads(statement: str, context: Any) -> bool:
    """Whether a statement only reads and takes no row lock."""
    words = statement.lstrip().split(None, 1)
    if not words or words[0].upper() not in READING_WORDS:
        return False
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None


def init_db(app: Flask) -> None:
    """Bind an engine and session factories to the app; close the session after each request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    reader = sessionmaker(engine, expire_on_commit=False)
    writer = sessionmaker(
        engine.execution_options(sqlite_begin_immediate=True), expire_on_commit=False
    )
    app.extensions["db_sessionmaker"] = reader
    app.extensions["db_write_sessionmaker"] = writer
    app.teardown_appcontext(_close_session)


def session_factories(app: Flask) -> list[sessionmaker[Session]]:
    """Every session factory of the app (commit.py hooks its subscribers into each)."""
    return [app.extensions["db_sessionmaker"], app.extensions["db_write_sessionmaker"]]


def get_session() -> Session:
    """Return this app context's session, opening it on first use.

    Its transactions begin deferred and take SQLite's write lock at their first write (see
    make_engine), so a request that only reads (a GET, a preview, a search) never takes it.
    """
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session  # type: ignore[no-any-return]


@contextmanager
def bookkeeping() -> Iterator[Session]:
    """A short transaction of its own for bookkeeping (a session's last-seen time, a token's
    last use, the API's request counts), committed at the end of the block: the request's
    own transaction stays a read, holding no write lock while the page renders."""
    writer: Session
    with current_app.extensions["db_write_sessionmaker"]() as writer:
        yield writer
        writer.commit()


def dialect_insert(model: Any) -> Any:
    """An INSERT with this database's ON CONFLICT clauses (both dialects spell them alike)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


session: Session = LocalProxy(get_session)  # type: ignore[assignment]


@contextmanager
def races_as_conflicts() -> Iterator[None]:
    """Turn a change that lost a race into ConflictError, after rolling it back.

    A stale version (someone saved the row since it was read) or a unique value taken a moment
    earlier surfaces as StaleDataError or IntegrityError at a flush, which may happen anywhere
    in a service; views then answer it like any other refused change.
    """
    try:
        yield
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise ConflictError(CONFLICT_MESSAGE) from exc


def commit_change(change: Callable[[], T]) -> T:
    """Run one change and commit it as the one transaction of this request or command.

    When the change is refused (a DomainError: a rule broken, or a race lost) everything it
    did is rolled back and the error raised for the caller to show.
    """
    try:
        with races_as_conflicts():
            result = change()
            session.commit()
    except DomainError:
        session.rollback()
        raise
    return result


# Tables no kept figure reads: signing in or out writes them on every visit (an API token's
# "last used" too, and the API's request counts), and must not throw away every worker's kept
# figures each time. The report pieces stored for every worker are kept figures themselves.
BOOKKEEPING_TABLES = {
    "user_session",
    "sign_in_failure",
    "api_token",
    "api_request_count",
    "figure_piece",
}


def note_flush(db_session: Session) -> None:
    """After a flush: did it write anything but bookkeeping?"""
    # after_flush still lists what the flush wrote in new, dirty and deleted.
    written = {*db_session.new, *db_session.dirty, *db_session.deleted}
    if any(getattr(obj, "__tablename__", None) not in BOOKKEEPING_TABLES for obj in written):
        db_session.info["wrote"] = True


def note_statement(state: ORMExecuteState) -> None:
    """A bulk INSERT, UPDATE or DELETE through the session, on anything but bookkeeping."""
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in BOOKKEEPING_TABLES:
        state.session.info["wrote"] = True


def write_data_version(db_session: Session) -> None:
    """A transaction that wrote anything moves the data version as it commits, so that every
    process knows the figures it keeps from before are stale (see cache.py). It is the last
    row a transaction locks, so it cannot deadlock with the rows the change locked first."""
    if db_session.info.pop("wrote", False):
        db_session.execute(text("UPDATE data_version SET number = number + 1 WHERE id = 1"))


def forget_writes(db_session: Session) -> None:
    db_session.info.pop("wrote", None)


def rollback_if_open() -> None:
    """Roll back this context's session, if it has one; error pages call it first."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.rollback()


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in URLs: a whole number that fits every database's integer column (PostgreSQL's
    INTEGER is 32-bit), so a larger one matches no route and answers 404."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def is_taken(model: Any, editing: Any, **values: Any) -> bool:
    """Whether another row of `model` (not `editing`) already has these column values: the
    check every "must be unique" rule of the services makes."""
    stmt = select(model.id).filter_by(**values)
    if editing is not None:
        stmt = stmt.where(model.id != editing.id)
    return session.scalar(stmt) is not None


def get_or_404(model: type[T], object_id: int) -> T:
    """Load a row by primary key, or answer 404 Not Found."""
    obj = session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj
