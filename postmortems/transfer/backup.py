"""A consistent copy of a live SQLite database, through SQLite's online backup API."""

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from postmortems.files import create_private_file, make_private_directory

PG_DUMP_HINT = (
    "flask backup copies SQLite databases only. On PostgreSQL use its own tools: "
    "pg_dump -Fc -f postmortems.dump DBNAME, and pg_restore -d DBNAME postmortems.dump "
    "(README, 'Export, import and backup')."
)


class BackupError(Exception):
    """The database cannot be backed up this way."""


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the database at `database_url` into `target` (a new file); return its pages.

    The backup API copies page by page and restarts when another connection writes in between,
    so the copy is one consistent state of the database, taken while the app keeps running;
    a plain file copy of a WAL database could miss the newest transactions or tear.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_DUMP_HINT)
    if not url.database or url.database == ":memory:":
        raise BackupError("This SQLite database lives in memory; there is no file to back up.")
    source_path = Path(url.database)
    if not source_path.exists():
        raise BackupError(f"No database at {source_path}.")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name.")
    make_private_directory(target.parent)
    create_private_file(target)  # 0600 before sqlite3 creates it with the umask's mode
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        pages: int = copy.execute("PRAGMA page_count").fetchone()[0]
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if check != "ok":
        raise BackupError(f"The copy failed SQLite's integrity check: {check}")
    return pages
