"""Import of the 281 shared public records (icco 242 files, MoJ 39) into a fresh database,
in-process, one transaction per file as `flask import` does (`make bench-import`), with its
quick commits on SQLite (`--full-sync` measures without them).

Target (issue 10): under 5 s. Prints the median of a few runs, wall and CPU time, and the
second run over the same files (every record found unchanged).

    python -m bench.imports --runs 3 [--full-sync] [--database-url postgresql+psycopg://…/x]
"""

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from postmortems import create_app
from postmortems.cli import alembic_config
from postmortems.transfer import public
from postmortems.transfer.batch import quick_commits
from postmortems.transfer.import_files import ImportSummary

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SOURCES = [
    ("icco", DATASETS / "icco-postmortems" / "data"),
    ("moj", DATASETS / "moj-cloud-platform" / "incidents"),
]
TARGET_SECONDS = 5.0


def import_all(quick: bool = True) -> ImportSummary:
    """Every shared record, as `flask import` does (with its quick commits unless told not)."""
    summary = ImportSummary()
    with quick_commits() if quick else nullcontext():
        for source_format, folder in SOURCES:
            for path in public.source_files(folder, source_format):
                public.import_file(path, source_format, summary)
    return summary


def one_run(url: str, quick: bool = True) -> tuple[float, float, float, str]:
    """(first import wall s, its CPU s, second import wall s, summary line of the first)."""
    command.upgrade(alembic_config(url), "head")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TIMEZONE": "UTC"})
    with app.app_context():
        wall, cpu = time.perf_counter(), time.process_time()
        summary = import_all(quick)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        again = time.perf_counter()
        repeat = import_all(quick)
        again = time.perf_counter() - again
        assert repeat.imported == 0 and repeat.updated == 0, repeat.line()
    app.extensions["db_engine"].dispose()
    return wall, cpu, again, summary.line()


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (emptied!)")
    parser.add_argument(
        "--full-sync",
        action="store_true",
        help="commit with SQLite's synchronous=FULL, as before quick_commits (for comparison)",
    )
    args = parser.parse_args()
    if not all(folder.is_dir() for _, folder in SOURCES):
        print(f"The shared datasets are not in {DATASETS}; nothing to measure.")
        return 0
    results = []
    for _ in range(args.runs):
        if args.database_url:
            reset_postgres(args.database_url)
            results.append(one_run(args.database_url))
        else:
            with tempfile.TemporaryDirectory() as folder:
                results.append(one_run(f"sqlite:///{folder}/bench.db", not args.full_sync))
    backend = make_url(args.database_url).get_backend_name() if args.database_url else "sqlite"
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    again = statistics.median(r[2] for r in results)
    sync = " (synchronous=FULL)" if args.full_sync else ""
    print(f"import of the shared records on {backend}{sync}: {results[0][3]}")
    print(f"  first import: median {wall:.2f} s wall, {cpu:.2f} s CPU over {args.runs} runs")
    print(f"  second import (all unchanged): median {again:.2f} s wall")
    verdict = "within" if wall < TARGET_SECONDS else "OVER"
    print(f"  target {TARGET_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
