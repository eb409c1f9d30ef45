"""Search, similar postmortems and the filing form at 1,000 to 100,000 postmortems
(`make bench-search`, issue 10). Measured in-process, one request at a time.

For each size it copies the generated SQLite database (bench/generate.py; cached under
.bench-cache/, with the search index built and a share of the postmortems in Russian) and
reports medians over repeated runs of:

- `search()` as an admin and as a reader, for one- and three-word queries in English and in
  Russian, and its ratio to the raw FTS5 query alone (the same MATCH, best 20 by bm25 over
  every match, no visibility, no snippets) on a bare sqlite3 connection, measured in the same
  run; also beside the same MATCH bounded as search() bounds it (the best 20 of the 1,001
  most recent matches);
- `search()` narrowed by a severity (one of five: a narrow filter; and the commonest one);
- the /search page and /search.json through the test client (page rendering included), each
  with its ratio to the raw FTS query of its words and the number of SQL statements it ran;
- the similar-postmortems panel of a postmortem worked out (its figures emptied before each
  run) and kept (a view again with nothing changed), the filing form (`/incidents/new`), and
  the home page of a reviewer (admin).

Target (issue 10): a search's median under 50 ms, and the filing form under 50 ms whatever
the number of postmortems. The exit code is 0 even when targets fail: this is a measurement.

With BENCH_DATABASE=postgresql (or `--database postgresql`) the same is measured on a clone of
the generated file's PostgreSQL copy on the server BENCH_DATABASE_URL names (bench/generate.py
`to_postgresql`, made first if need be), migrated to head, then dropped; there is no raw FTS5
query to compare with, so the notes give the results alone.

Environment: BENCH_SIZES (default "100000"), BENCH_REPEAT (runs per figure, default 15),
BENCH_DATABASE (sqlite or postgresql), BENCH_DATABASE_URL (a PostgreSQL role with CREATEDB).
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import event, select

from bench.generate import ADMIN_EMAIL, READER_EMAIL, cached_database, landmarks
from bench.serve import postgresql_clone
from models import Severity, User
from postmortems import create_app
from postmortems.auth.service import start_session
from postmortems.auth.sessions import SESSION_TOKEN_KEY
from postmortems.cli import alembic_config
from postmortems.db import session
from postmortems.incidents.service import IncidentFilters
from postmortems.search.service import fts5_query, search
from postmortems.search.text import parse_query

TARGET_MS = 50.0
QUERIES = [
    ("en", 1, "threshold"),
    ("en", 3, "rounded scores integers"),
    ("en", 1, "certificate"),
    ("ru", 1, "ошибку"),
    ("ru", 3, "ошибка порога бинаризации"),
    ("ru", 1, "сертификата"),
]


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm: the first run pays for caches the others share
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


# The raw FTS5 query: the same MATCH, the best 20 by bm25 over every match.
RAW = (
    "SELECT rowid FROM search_fts WHERE search_fts MATCH ? "
    "ORDER BY bm25(search_fts, 4.0, 1.0) LIMIT 20"
)
# The same bounded as search() bounds it: the best 20 of the 1,001 most recent matches.
RAW_BOUNDED = (
    "SELECT id FROM (SELECT rowid AS id, bm25(search_fts, 4.0, 1.0) AS score FROM search_fts "
    "WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT 1001) ORDER BY score LIMIT 20"
)


def raw_fts(path: Path, query: str, sql: str) -> Callable[[], Any]:
    conn = sqlite3.connect(path)
    match = fts5_query(parse_query(query + " "))
    return lambda: conn.execute(sql, (match,)).fetchall()


@contextmanager
def database_url(source: Path, backend: str) -> Iterator[str]:
    """A copy of the generated database to measure on, removed afterwards: a file on SQLite,
    a clone of its PostgreSQL copy (migrated to head) on PostgreSQL."""
    if backend == "postgresql":
        with postgresql_clone(source) as url:
            began = time.perf_counter()
            command.upgrade(alembic_config(url), "head")
            print(f"Migrated to head in {time.perf_counter() - began:.1f} s")
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        shutil.copy(source, path)
        yield f"sqlite:///{path}"


def bench_size(size: int, repeat: int, backend: str = "sqlite") -> list[tuple[str, float, str]]:
    source = cached_database(size)
    marks = landmarks(source)
    rows: list[tuple[str, float, str]] = []
    sqlite = backend == "sqlite"
    with database_url(source, backend) as url:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
        with app.app_context():
            admin = session.scalars(select(User).where(User.email == ADMIN_EMAIL)).one()
            reader = session.scalars(select(User).where(User.email == READER_EMAIL)).one()
            token = start_session(admin)
            session.commit()
            raws: dict[str, float] = {}
            for language, words, query in QUERIES:
                if sqlite:
                    path = Path(url.removeprefix("sqlite:///"))
                    raw = raws[query] = median_ms(raw_fts(path, query, RAW), repeat)
                    bounded = median_ms(raw_fts(path, query, RAW_BOUNDED), repeat)
                for who, viewer in (("admin", admin), ("reader", reader)):
                    found = search(viewer, query + " ")
                    took = median_ms(partial(search, viewer, query + " "), repeat)
                    name = f"search {language} {words}w {who:6} {query!r}"
                    note = ""
                    if sqlite:
                        note = (
                            f"{took / raw:4.1f}× raw FTS ({raw:.1f} ms), {took / bounded:4.1f}× "
                            f"bounded ({bounded:.1f} ms), "
                        )
                    note += f"{found.total:,}" + ("+" if found.total_is_capped else "")
                    rows.append((name, took, note + " results"))
            for severity in (Severity.SEV1, Severity.SEV3):
                filters = IncidentFilters(severity=severity)
                for query in ("threshold", "ошибку"):
                    for who, viewer in (("admin", admin), ("reader", reader)):
                        found = search(viewer, query + " ", filters)
                        took = median_ms(partial(search, viewer, query + " ", filters), repeat)
                        name = f"search {severity.name} {who:6} {query!r}"
                        note = f"{took / raws[query]:4.1f}× raw FTS, " if sqlite else ""
                        note += f"{found.total:,}" + ("+" if found.total_is_capped else "")
                        rows.append((name, took, note + " results"))
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = str(admin.id)
            flask_session["_fresh"] = True
            flask_session[SESSION_TOKEN_KEY] = token

        statements = [0]

        @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
        def count(*_args: Any) -> None:
            statements[0] += 1

        def get(url: str, uncached: bool = False) -> Callable[[], Any]:
            def run() -> Any:
                if uncached:  # every figure kept in this process, as after any write
                    app.extensions.pop("figure_cache", None)
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            return run

        similar = f"/incidents/{marks.postmortem_id}/similar"
        pages = [
            ("/healthz (the floor, for scale)", "/healthz", None, False),
            ("page /search?q=threshold", "/search?q=threshold", "threshold", False),
            (
                "page /search?q=ошибку",
                "/search?q=%D0%BE%D1%88%D0%B8%D0%B1%D0%BA%D1%83",
                "ошибку",
                False,
            ),
            ("page /search.json?q=rounded+scores", "/search.json?q=rounded+scores", None, False),
            (
                "page /search?q=threshold&severity=SEV1",
                "/search?q=threshold&severity=SEV1",
                "threshold",
                False,
            ),
            (
                "page /search?q=threshold&severity=SEV3",
                "/search?q=threshold&severity=SEV3",
                "threshold",
                False,
            ),
            ("picker /search/incidents?q=PM-2024", "/search/incidents?q=PM-2024", None, False),
            (
                "picker /search/incidents?q=calibration",
                "/search/incidents?q=calibration",
                None,
                False,
            ),
            ("similar panel, worked out (nothing kept)", similar, None, True),
            ("similar panel, kept (viewed again)", similar, None, False),
            ("lessons page", "/lessons", None, False),
            ("filing form /incidents/new", "/incidents/new", None, False),
            ("filing form, nothing kept", "/incidents/new", None, True),
            ("home page of a reviewer (admin)", "/", None, False),
        ]
        for name, url, raw_words, uncached in pages:
            run = get(url, uncached)
            took = median_ms(run, repeat)
            statements[0] = 0
            run()
            note = f"{statements[0]} SQL statements"
            if raw_words is not None and sqlite:
                note = f"{took / raws[raw_words]:4.1f}× raw FTS, " + note
            rows.append((name, took, note))
        app.extensions["db_engine"].dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("BENCH_DATABASE", "sqlite"),
        help="where to measure (default: BENCH_DATABASE, else sqlite)",
    )
    backend = parser.parse_args().database
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100000").split(",") if s.strip()]
    repeat = int(os.environ.get("BENCH_REPEAT", "15"))
    failed = []
    for size in sizes:
        print(f"\n{size:,} postmortems on {backend} (median of {repeat} runs, in-process)")
        for name, took, note in bench_size(size, repeat, backend):
            mark = "" if took < TARGET_MS else "  over target"
            if mark:
                failed.append(f"{size:,}: {name}")
            print(f"  {name:58} {took:8.1f} ms  {note}{mark}")
    print(
        f"\nAll under {TARGET_MS:.0f} ms."
        if not failed
        else f"\nOver {TARGET_MS:.0f} ms: " + "; ".join(failed)
    )


if __name__ == "__main__":
    main()
