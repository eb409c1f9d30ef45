"""`flask backup FILE`: a consistent copy of a live SQLite database; PostgreSQL is pointed to
pg_dump."""

import sqlite3
import threading

import pytest

from postmortems.demo import load_demo_data
from postmortems.transfer.backup import BackupError, backup_sqlite
from tests.conftest import BACKEND
from tests.factories import make_incident

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="copies SQLite databases only")


@sqlite_only
def test_backup_copies_the_live_database(runner, db, tmp_path) -> None:
    load_demo_data()
    db.commit()
    target = tmp_path / "copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Backed up the database to {target}" in result.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM incident").fetchone() == (3,)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@sqlite_only
def test_backup_while_another_connection_writes_is_consistent(app, db, tmp_path) -> None:
    """Writers keep committing during the copy; the copy holds whole transactions only."""
    url = app.config["DATABASE_URL"]
    stop = threading.Event()

    def write() -> None:
        with app.app_context():
            from postmortems.db import session

            while not stop.is_set():
                make_incident("Busy")
                session.commit()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        backup_sqlite(url, tmp_path / "copy.db")
    finally:
        stop.set()
        writer.join()
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Each filing takes a key and adds its incident in one transaction: a torn copy would
    # hold a counter ahead of its incidents, or incidents beyond their counter.
    filed = copy.execute("SELECT count(*) FROM incident WHERE key LIKE 'PM-2024-%'").fetchone()[0]
    counter = copy.execute(
        "SELECT coalesce(max(last_number), 0) FROM incident_key_counter WHERE prefix = 'PM-2024'"
    ).fetchone()[0]
    assert filed == counter


@sqlite_only
def test_backup_refuses_to_overwrite_a_file(runner, tmp_path) -> None:
    target = tmp_path / "there.db"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and "exists; choose a new file name" in result.output
    assert target.read_text() == "keep me"


def test_backup_on_postgresql_points_to_pg_dump(tmp_path) -> None:
    with pytest.raises(BackupError, match="pg_dump -Fc"):
        backup_sqlite("postgresql+psycopg://u:p@localhost/db", tmp_path / "x.db")


@pytest.mark.skipif(BACKEND != "postgresql", reason="the command on a PostgreSQL app")
def test_backup_command_on_postgresql_refuses(runner, tmp_path) -> None:
    result = runner.invoke(args=["backup", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "pg_restore" in result.output
    assert not (tmp_path / "x.db").exists()
