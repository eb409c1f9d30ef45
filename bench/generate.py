"""A synthetic SQLite database of many postmortems, for `make bench` (issue 7).

    python -m bench.generate 100000            # into .bench-cache/, reused when present
    python -m bench.generate 1000 -o /tmp/x.db
    python -m bench.generate 100000 --postgresql   # and a copy on PostgreSQL (`to_postgresql`)
    python -m bench.generate 100000 --shape outside   # issue 18's outside data (bench/shape.py)

The schema comes from the Alembic migrations; the rows go in with SQLAlchemy Core bulk
inserts (executemany, one transaction per chunk of postmortems), not through the services:
the services would take an hour at 100,000. The data is seeded, so the same size and seed
give the same database: 20 teams growing through 10 years and 4 growth stages, postmortems
spread over those years in proportion to headcount (mostly published, some drafts, in review
or archived; mixed severities; some restricted, near-misses or excluded from metrics), each
with ~3 timeline events, 2 factors, 2 impact estimates, a lesson and 2 action items linked to
300 guard checks, a few of which are linked from thousands of postmortems, and 60 tags. The
`outside` shape (bench/shape.py) is issue 18's outside run: exactly 3 timeline events, six
sections of ~700 characters each, one guard check linked from 16% of the postmortems.

The work is split by job: bench/shape.py (what a database holds), bench/texts.py (the words),
bench/rows.py (the rows of each kind), bench/sqlite_writer.py (the inserts, stored HTML and
search index), bench/pg_copy.py (the PostgreSQL copy), bench/landmarks.py (what the pages open).

Columns the generator does not know (added to the models later) get their Python-side
defaults; a `*_html` column beside a `*_md` one gets the Markdown rendered by the app's own
renderer, and a NOT NULL column without a default gets an empty value, with a warning.

`to_postgresql` copies a generated file, typed through the models' columns, into a database
of its own on a PostgreSQL server (migrated with the project's Alembic, filled with COPY,
vacuumed and analysed), made once and reused like the file.
"""

import argparse
import hashlib
import os
import random
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    create_engine,
    event,
)
from sqlalchemy.engine import make_url

from bench.landmarks import Landmarks, landmarks
from bench.pg_copy import (
    DEFAULT_ADMIN_URL,
    clone_database,
    drop_database,
    postgresql_name,
    to_postgresql,
)
from bench.rows import Generator
from bench.shape import ADMIN_EMAIL, PASSWORD, READER_EMAIL, SEED, SHAPES
from bench.sqlite_writer import build_search_index, render_leftover_markdown
from postmortems.cli import alembic_config

# Bump when the generated data changes, so that cached databases are made again.
GENERATOR_VERSION = 3  # 2: a share in Russian (search); 3: 20 teams over 10 years (issue 9)
ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".bench-cache"

# What the other benchmarks import from here, wherever it lives now.
__all__ = [
    "ADMIN_EMAIL",
    "CACHE_DIR",
    "DEFAULT_ADMIN_URL",
    "PASSWORD",
    "READER_EMAIL",
    "ROOT",
    "SEED",
    "Landmarks",
    "cached_database",
    "clone_database",
    "drop_database",
    "generate",
    "landmarks",
    "postgresql_name",
    "to_postgresql",
]


# --- The cache -------------------------------------------------------------------------


def schema_key() -> str:
    """The migration head, and a digest of the whole chain: a migration inserted before the
    head (as 0004 was, after 0005) changes the schema without changing the head."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = sorted(f"{rev.revision}<{rev.down_revision}" for rev in script.walk_revisions())
    digest = hashlib.sha256("\n".join(chain).encode()).hexdigest()[:8]
    return "+".join(sorted(script.get_heads())) + "-" + digest


def cached_path(incidents: int, seed: int = SEED, shape: str = "own") -> Path:
    """Where the database of this size lives, named after everything that shapes it (the own
    shape's name is left out, so its files keep the names they had before shapes)."""
    return CACHE_DIR / f"{_stem(incidents, shape)}s{seed}-g{GENERATOR_VERSION}-{schema_key()}.db"


def _stem(incidents: int, shape: str) -> str:
    return f"postmortems-{incidents}-" + ("" if shape == "own" else f"{shape}-")


def cached_database(incidents: int, seed: int = SEED, shape: str = "own") -> Path:
    """The generated database of this size and shape, made now unless a current one is cached.

    Older files of the same size and shape (another generator version or migration head) are
    removed.
    """
    path = cached_path(incidents, seed, shape)
    if path.exists():
        print(f"Reusing {path.relative_to(ROOT)}")
        return path
    CACHE_DIR.mkdir(exist_ok=True)
    for old in CACHE_DIR.glob(f"{_stem(incidents, shape)}s*.db"):
        old.unlink()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    generate(partial, incidents=incidents, seed=seed, shape=shape)
    # Renamed only when complete, so that an interrupted run is never reused.
    os.replace(partial, path)
    return path


# --- Generating ------------------------------------------------------------------------


def generate(
    path: str | os.PathLike[str],
    incidents: int = 1_000,
    teams: int = 20,
    years: int = 10,
    seed: int = SEED,
    shape: str = "own",
) -> None:
    """Write a database of `incidents` postmortems of this shape to `path` (which must not
    exist)."""
    began = time.perf_counter()
    url = f"sqlite:///{path}"
    print(f"Generating {incidents:,} postmortems ({shape} shape) into {path}")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        # A throwaway file written once: no fsync and no rollback journal on disk.
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

    generator = Generator(random.Random(seed), incidents, teams, years, SHAPES[shape])
    with engine.connect() as conn:
        generator.write(conn, began)
    engine.dispose()
    render_leftover_markdown(url, generator.writer.unrendered)
    build_search_index(url)
    size = os.path.getsize(path) / 2**20
    print(f"  done: {size:,.0f} MB in {time.perf_counter() - began:,.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("incidents", type=int, help="how many postmortems")
    parser.add_argument("-o", "--output", help="write here instead of the cache")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        default="own",
        help="own: the project's data (default); outside: issue 18's outside run",
    )
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
        metavar="ADMIN_URL",
        help="copy it to a database of its own on this server (default: BENCH_DATABASE_URL)",
    )
    args = parser.parse_args()
    if args.output:
        Path(args.output).unlink(missing_ok=True)
        generate(args.output, incidents=args.incidents, seed=args.seed, shape=args.shape)
        path = Path(args.output)
    else:
        path = cached_database(args.incidents, args.seed, args.shape)
    print(landmarks(path))
    if args.postgresql:
        print(make_url(to_postgresql(path, args.postgresql)))


if __name__ == "__main__":
    main()
