"""The database engine and the request-scoped session."""

from typing import Any, TypeVar

from flask import Flask, abort, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.local import LocalProxy

SQLITE_BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


def init_db(app: Flask) -> None:
    """Bind an engine and a session factory to the app; close the session after each request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """Return this app context's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session  # type: ignore[no-any-return]


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


session: Session = LocalProxy(get_session)  # type: ignore[assignment]


def get_or_404(model: type[T], object_id: int) -> T:
    """Load a row by primary key, or answer 404 Not Found."""
    obj = session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj
