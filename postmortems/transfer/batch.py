"""An import's many small transactions, committed without waiting for the disk each time."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from postmortems.db import get_engine, session


@contextmanager
def quick_commits() -> Iterator[None]:
    """On SQLite, commit each transaction of the block with `synchronous=NORMAL` instead of
    FULL: in WAL mode a commit then no longer waits for the disk (fsync) each time, only at
    checkpoints. Each transaction stays atomic and the database consistent; a power cut may
    lose the last few committed files, which importing the same files again brings back (an
    import is repeatable). Outside the block every connection is as before.
    """
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        yield
        return

    def relax(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # no transaction is open yet

    def restore(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:  # None: the connection was invalidated
            dbapi_connection.execute("PRAGMA synchronous=FULL")  # SQLite's default, and ours

    session.close()  # the next transaction checks a connection out, and relaxes it
    event.listen(engine, "checkout", relax)
    event.listen(engine, "checkin", restore)
    try:
        yield
    finally:
        session.close()
        event.remove(engine, "checkout", relax)
        event.remove(engine, "checkin", restore)
