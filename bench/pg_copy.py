"""A generated SQLite file copied into a PostgreSQL database of its own, and clones of it
(bench/generate.py `--postgresql`, `make bench` on PostgreSQL)."""

import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import psycopg
from alembic import command
from psycopg import sql as psql
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench.shape import CHUNK
from models import (
    Base,
)
from postmortems.cli import alembic_config
from postmortems.search import schema as search_schema

# --- On PostgreSQL ---------------------------------------------------------------------

DEFAULT_ADMIN_URL = "postgresql+psycopg://postmortems:postmortems@127.0.0.1:5432/postmortems_test"
# Bump when the copy changes, so that copied databases are made again.
COPY_VERSION = 1


def postgresql_name(sqlite_path: str | os.PathLike[str]) -> str:
    """The PostgreSQL database a generated file is copied to: its size, and a digest of the
    file's name (which says what shaped it), length and time, and of the copy's version."""
    path = Path(sqlite_path)
    stat = path.stat()
    key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{COPY_VERSION}"
    shape = "outside_" if "-outside-" in path.name else ""  # bench/generate.py cached_path
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"pm_bench_{shape}{_count_incidents(path)}_{digest}"


def to_postgresql(sqlite_path: str | os.PathLike[str], admin_url: str = DEFAULT_ADMIN_URL) -> str:
    """The generated database copied into a database of its own on the PostgreSQL server
    `admin_url` connects to (its role needs CREATEDB); return that database's URL.

    Made once per file, then reused: the copy goes into `<name>_partial`, renamed when its
    row counts match the file's, so an interrupted copy is never reused. Older copies of the
    same size are dropped. Serve a clone of it (`clone_database`) to keep it as it was made.
    """
    admin = make_url(admin_url)
    name = postgresql_name(sqlite_path)
    url = admin.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            existing = set(conn.scalars(text("SELECT datname FROM pg_database")))
        if name in existing:
            print(f"Reusing PostgreSQL database {name}")
            return url
        of_this_size = name.rsplit("_", 1)[0]  # pm_bench_<size>
        for old in sorted(existing):
            if re.fullmatch(rf"{of_this_size}_[0-9a-f]{{8}}(_partial)?", old):
                drop_database(engine, old)
        partial = f"{name}_partial"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{partial}"'))
        _copy_to_postgresql(
            Path(sqlite_path), admin.set(database=partial).render_as_string(hide_password=False)
        )
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
    finally:
        engine.dispose()
    return url


def clone_database(admin_url: str, template: str, name: str) -> str:
    """A new database `name` made as a file copy of `template` (statistics, visibility map and
    all); return its URL. Nobody may be connected to the template meanwhile."""
    admin = make_url(admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            # FILE_COPY copies the files; the default (WAL_LOG) would write them all to the WAL.
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
    finally:
        engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(admin: Engine, name: str) -> None:
    """DROP DATABASE, retried: autovacuum may hold a new database for a moment."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            time.sleep(0.1 * (attempt + 1))
    print(f"  warning: could not drop database {name}")


def _copy_to_postgresql(path: Path, url: str) -> None:
    """Migrate the empty database to head, COPY every table's rows in, and check the counts."""
    began = time.perf_counter()
    print(f"Copying {path.name} to PostgreSQL ({make_url(url).database})")
    command.upgrade(alembic_config(url), "head")
    source = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    target = create_engine(url)
    tables = Base.metadata.sorted_tables
    try:
        with source.connect() as src, target.connect() as dst:
            unknown = set(inspect(src).get_table_names()) - {t.name for t in tables}
            # SQLite's own full-text tables are not copied: PostgreSQL has its GIN index.
            unknown -= {n for n in unknown if n.startswith(search_schema.UNMODELLED_PREFIX)}
            if unknown - {"alembic_version"}:
                raise RuntimeError(f"tables the models do not know: {sorted(unknown)}")
            with dst.begin():
                # The migrations seed rows (the causes, data_version 1); the file's replace them.
                names = ", ".join(f'"{table.name}"' for table in tables)
                dst.execute(text(f"TRUNCATE {names}"))
                copied = {table.name: _copy_table(src, dst, table) for table in tables}
                _reset_sequences(dst, tables)
            for table in tables:
                there = dst.scalar(select(func.count()).select_from(table))
                if there != copied[table.name]:
                    raise RuntimeError(f"{table.name}: {copied[table.name]} rows read, {there} in")
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM as well: its visibility map lets index-only scans skip the table, as
            # they would on a database that had lived under autovacuum.
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        source.dispose()
        target.dispose()
    rows = sum(copied.values())
    print(f"  done: {rows:,} rows in {time.perf_counter() - began:,.0f} s")


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """COPY one table's rows from SQLite to PostgreSQL; return how many.

    The rows are read through the models' column types (Decimal from its text, aware UTC
    datetimes, enum members, bools) and written through the same types' PostgreSQL side.
    """
    dialect = dst.dialect
    bind = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.c]
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(table.name), psql.SQL(", ").join(psql.Identifier(c.name) for c in table.c)
    )
    raw = cast(psycopg.Connection[Any], dst.connection.dbapi_connection)
    result = src.execution_options(yield_per=CHUNK).execute(select(table))
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for rows in result.partitions():
            for row in rows:
                copy.write_row(
                    [v if p is None or v is None else p(v) for p, v in zip(bind, row, strict=True)]
                )
            count += len(rows)
    return count


def _reset_sequences(dst: Connection, tables: Sequence[Table]) -> None:
    """Point each integer key's sequence past the copied rows, so the app's inserts fit."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        dst.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'coalesce(max("{column}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column},
        )


def _count_incidents(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM incident").fetchone()[0])
    finally:
        db.close()
