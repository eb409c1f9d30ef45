"""Guard states at scale: 300 guards and 100,000 runs (issue 11), measured in-process.

Fills a fresh database (SQLite file, or a throwaway PostgreSQL database with --database
postgresql and BENCH_DATABASE_URL / TEST_DATABASE_URL) migrated to head with 300 guard checks
and RUNS runs (Zipf: a few guards run thousands of times, most a few hundred), 10,000
postmortems with an action item each linked to a guard, then times the queries the guard pages,
`flask guards check` and the reports run, and prints the query plans of the two that read runs
(both go along the run indexes: a few index probes per guard, whatever its number of runs).

    .venv/bin/python -m bench.guards                 # SQLite
    .venv/bin/python -m bench.guards --database postgresql --runs 100000
"""

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from models import ActionItem, GuardCheck, GuardKind, GuardRun, GuardStatus, Incident
from models.incident import action_item_guard
from postmortems import create_app
from postmortems.cli import alembic_config

GUARDS = 300
INCIDENTS = 10_000
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _fill(url: str, runs: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = create_engine(url)
    guards = [
        {
            "id": n,
            "name": f"Guard {n}",
            "kind": GuardKind.AUTOMATED_TEST,
            "status": GuardStatus.ACTIVE,
            "freshness_days": rng.choice([1, 7, 7, 7, 30]),
            "created_at": NOW - timedelta(days=400),
            "updated_at": NOW - timedelta(days=400),
        }
        for n in range(1, GUARDS + 1)
    ]
    weights = [1 / rank for rank in range(1, GUARDS + 1)]
    guard_of_run = rng.choices(range(1, GUARDS + 1), weights=weights, k=runs)
    run_rows = [
        {
            "guard_check_id": gid,
            "status": "FAIL" if rng.random() < 0.1 else "PASS",
            "ran_at": NOW - timedelta(seconds=rng.randint(0, 365 * 86400)),
            "details": "",
            "created_at": NOW,
        }
        for gid in guard_of_run
    ]
    incidents = [
        {
            "id": n,
            "key": f"PM-B-{n}",
            "title": f"Incident {n}",
            "started_at": NOW - timedelta(days=rng.randint(1, 2000)),
            "status": "PUBLISHED",
        }
        for n in range(1, INCIDENTS + 1)
    ]
    items = [
        {
            "id": n,
            "incident_id": n,
            "title": "Item",
            "group": "TECHNICAL",
            "type": "PREVENTIVE",
            "status": rng.choice(["DONE", "DONE", "OPEN"]),
        }
        for n in range(1, INCIDENTS + 1)
    ]
    links = [
        {"action_item_id": n, "guard_check_id": rng.choices(range(1, GUARDS + 1), weights)[0]}
        for n in range(1, INCIDENTS + 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(GuardCheck), guards)
        for start in range(0, len(run_rows), 10_000):
            conn.execute(insert(GuardRun), run_rows[start : start + 10_000])
        conn.execute(insert(Incident), incidents)
        conn.execute(insert(ActionItem), items)
        conn.execute(insert(action_item_guard), links)
        if url.startswith("postgresql"):
            for table in ("guard_check", "incident", "action_item"):
                conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _time(fn: Callable[[], Any], repeat: int = 15) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def _plan(session: Any, stmt: Any) -> list[str]:
    dialect = session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    return [" ".join(str(c) for c in row) for row in session.execute(text(prefix + sql))]


def measure(url: str) -> None:
    from models import Role, User
    from postmortems.db import session
    from postmortems.guards.chart import weekly_runs
    from postmortems.guards.health import guards_health
    from postmortems.guards.risk import (
        at_risk_action_items,
        at_risk_guards,
        effectiveness,
        guard_report,
    )
    from postmortems.guards.runs import facts_query, guard_facts, guard_states, list_runs

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        busiest = session.get(GuardCheck, 1)
        assert busiest is not None
        admin = User(id=0, email="a@example.com", role=Role.ADMIN)  # not stored: a viewer
        reader = User(id=0, email="r@example.com", role=Role.READER)
        figures = {
            "guard_states (every guard, one query)": lambda: guard_states(NOW),
            "guard_facts (one guard, the busiest)": lambda: guard_facts(busiest, NOW),
            "runs page 1 of the busiest guard": lambda: session.scalars(
                list_runs(busiest).limit(20)
            ).all(),
            "weekly chart of the busiest guard": lambda: weekly_runs(busiest, NOW),
            "at-risk items of one postmortem": lambda: at_risk_action_items(1, NOW),
            "guards_health (flask guards check)": lambda: guards_health(NOW),
            "at-risk page, admin": lambda: at_risk_guards(NOW, admin),
            "at-risk page, reader": lambda: at_risk_guards(NOW, reader),
            "effectiveness (5 queries)": lambda: effectiveness(NOW),
            "report figures for a quarter": lambda: guard_report(
                (NOW - timedelta(days=90)).date(), NOW.date(), NOW
            ),
        }
        runs = session.scalar(text("SELECT count(*) FROM guard_run"))
        busiest_runs = session.scalar(
            text("SELECT count(*) FROM guard_run WHERE guard_check_id = 1")
        )
        print(
            f"{session.get_bind().dialect.name}: {GUARDS} guards, {runs} runs "
            f"(busiest guard {busiest_runs}), {INCIDENTS} postmortems"
        )
        for name, fn in figures.items():
            print(f"  {name:<40} {_time(fn):8.2f} ms (median of 15)")
        print("  plan of the state query:")
        for line in _plan(session, facts_query(NOW)):
            print(f"    {line}")
        print("  plan of a runs page:")
        for line in _plan(session, list_runs(busiest).limit(20)):
            print(f"    {line}")
    app.extensions["db_engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'guards.db'}"
            command.upgrade(alembic_config(url), "head")
            _fill(url, args.runs, args.seed)
            measure(url)
        return
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"pm_bench_guards_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        command.upgrade(alembic_config(url), "head")
        _fill(url, args.runs, args.seed)
        measure(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
