"""What runs when a transaction commits: every subscriber, in one stated order.

Each subscriber notes what a flush (or a bulk statement through the session) wrote, and just
before the commit writes what follows from it, in the same transaction:

1. the search index rewrites the documents of the postmortems and guard checks written
   (search/index.py);
2. the figure versions move for the months of the incidents written (reports/versions.py);
3. the data version moves when anything but bookkeeping was written (cache.py reads it; db.py
   owns it). Last: the subscribers before it write too, and it is the last row a transaction
   locks, so two transactions cannot deadlock over it.

The session is flushed once before the first subscriber writes; subscribers write with plain
statements, never new objects, so nothing is left to flush after them. A rollback forgets what
every subscriber noted. tests/test_commit_order.py pins the order.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from postmortems import db
from postmortems.reports import versions
from postmortems.search import index


@dataclass(frozen=True)
class Subscriber:
    """One thing kept in step with what a transaction writes."""

    name: str
    note_flush: Callable[[Session], None]  # after each flush: what did it write?
    note_statement: Callable[[ORMExecuteState], None]  # a bulk INSERT, UPDATE or DELETE
    write: Callable[[Session], None]  # before commit, after the last flush
    forget: Callable[[Session], None]  # after a rollback


SUBSCRIBERS = (
    Subscriber(
        "search index",
        index.note_flush,
        index.note_statement,
        index.write_pending,
        index.forget_pending,
    ),
    Subscriber(
        "figure months",
        versions.note_flush,
        versions.note_statement,
        versions.write_pending,
        versions.forget_pending,
    ),
    Subscriber(
        "data version",
        db.note_flush,
        db.note_statement,
        db.write_data_version,
        db.forget_writes,
    ),
)


def _after_flush(db_session: Session, *_args: Any) -> None:
    for subscriber in SUBSCRIBERS:
        subscriber.note_flush(db_session)


def _on_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        for subscriber in SUBSCRIBERS:
            subscriber.note_statement(state)


def _before_commit(db_session: Session) -> None:
    db_session.flush()  # commit flushes only after this event: see what is still pending now
    for subscriber in SUBSCRIBERS:
        subscriber.write(db_session)


def _after_rollback(db_session: Session, *_args: Any) -> None:
    for subscriber in SUBSCRIBERS:
        subscriber.forget(db_session)


def init_commit_pipeline(app: Flask) -> None:
    """Hook the subscribers into every session factory of the app."""
    for factory in db.session_factories(app):
        listen(factory)


def listen(factory: "sessionmaker[Session]") -> None:
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _on_statement)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _after_rollback)
