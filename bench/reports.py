"""Report figures at 1,000, 10,000 and 100,000 postmortems, in process (`make bench-reports`,
issue 9).

For each size it copies the generated SQLite database (bench/generate.py, cached under
.bench-cache/) and, in a fresh Python process of its own (so that its peak memory is its own),
creates the app, signs an admin in through the app's own session code and requests, through
Flask's test client:

- the trend report over every day the data covers, unfiltered and filtered to the largest team;
- the quarterly review of the quarter with the most incidents (its page lists every one);
- the postmortem list, unfiltered and filtered by the largest growth stage;

and, as the floor, runs the raw SQL that counts incidents per quarter and cause category over
the same rows (not excluded, not near-misses, the same days) straight through sqlite3.

Report figures are kept per month of incidents and a write recomputes only the months it
touched (reports/piece_store.py), so each report is timed in three states:

- after a write: one incident of the newest month (for the quarterly, of its quarter) is
  changed and committed before each request, so the whole report is assembled again and that
  month's figures computed again: what a reader pays after someone saves a postmortem;
- kept: nothing changed since the last request (the report itself is kept);
- cold: every kept figure thrown away first (postmortems/cache.py's store and the monthly
  pieces), as in a worker that has just started: every month is computed from the database.

SQLite's own page cache stays warm (one discarded request first). Each is timed
`BENCH_REPORT_RUNS` times (default 7) and the median is reported, with the process's peak
resident memory. Targets (issue 9), read on the "after a write" times: trend within 3x the raw
query and under 500 ms; quarterly under 200 ms; the stage-filtered list within 2x the
unfiltered list; peak memory under 500 MB. The cold times are reported beside them, not
counted as met. The exit code is 0 even when a target fails; the last lines say how it went.

    make bench-reports
    BENCH_SIZES=1000,10000 .venv/bin/python -m bench.reports
"""

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generate import ADMIN_EMAIL, ROOT, cached_database, landmarks

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s]
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "7"))
TREND_RATIO, TREND_MS, QUARTERLY_MS, LIST_RATIO, MEMORY_MB = 3.0, 500.0, 200.0, 2.0, 500.0

RAW_QUERY = """
SELECT strftime('%Y', i.started_at) || 'Q'
         || ((CAST(strftime('%m', i.started_at) AS INTEGER) + 2) / 3) AS quarter,
       cf.category,
       count(DISTINCT i.id)
FROM incident i
JOIN incident_factor f ON f.incident_id = i.id
JOIN contributing_factor cf ON cf.id = f.factor_id
WHERE i.exclude_from_metrics = 0 AND i.is_near_miss = 0
  AND i.started_at >= ? AND i.started_at < ?
GROUP BY quarter, cf.category
"""


def median_ms(action: Callable[[], Any], before: Callable[[], None] = lambda: None) -> float:
    """The median wall time of `action` over RUNS runs, after one discarded run."""
    before()
    action()
    times = []
    for _ in range(RUNS):
        before()
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def subjects(path: Path) -> dict[str, Any]:
    """What is measured in this database, found by plain SQL."""
    marks = landmarks(path)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        first, last = db.execute("SELECT min(started_at), max(started_at) FROM incident").fetchone()
        (team_id,) = db.execute(
            "SELECT team_id FROM incident WHERE team_id IS NOT NULL"
            " GROUP BY team_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        quarter, _ = db.execute(
            "SELECT strftime('%Y', started_at) || 'Q' ||"
            " ((CAST(strftime('%m', started_at) AS INTEGER) + 2) / 3) AS q, count(*) AS n"
            " FROM incident GROUP BY q ORDER BY n DESC, q LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    return {
        "from": first[:10],
        "to": last[:10],
        "team_id": team_id,
        "quarter": quarter,
        "quarter_first_day": f"{quarter[:4]}-{(int(quarter[-1]) - 1) * 3 + 1:02d}-01",
        "stage_id": marks.stage_id,
        "incidents": marks.incidents,
    }


def measure(path: Path) -> dict[str, Any]:
    """Every measurement on one database (run in a process of its own)."""
    from datetime import UTC, date, datetime, timedelta

    from sqlalchemy import select

    from models import Incident, Severity, User
    from postmortems import create_app
    from postmortems.auth.service import start_session
    from postmortems.auth.sessions import SESSION_TOKEN_KEY
    from postmortems.db import session

    s = subjects(path)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{path}",
            "TIMEZONE": "UTC",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        admin = session.scalars(select(User).where(User.email == ADMIN_EMAIL)).one()
        token = start_session(admin)
        admin_id = admin.id
        session.commit()
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(admin_id)
        flask_session["_fresh"] = True
        flask_session[SESSION_TOKEN_KEY] = token

    def cold() -> None:
        app.extensions.get("figure_cache", {}).clear()
        app.extensions.get("figure_pieces", {}).clear()

    def write_from(day: str) -> Callable[[], None]:
        """Change the severity of the first incident started on or after `day`."""

        def change() -> None:
            with app.app_context():
                incident = session.scalars(
                    select(Incident)
                    .where(Incident.started_at >= datetime.fromisoformat(day).replace(tzinfo=UTC))
                    .order_by(Incident.started_at)
                    .limit(1)
                ).one()
                severities = list(Severity)
                incident.severity = severities[(severities.index(incident.severity) + 1) % 4]
                session.commit()

        return change

    def get(url: str) -> Callable[[], None]:
        def request() -> None:
            response = client.get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"

        return request

    span = f"from={s['from']}&to={s['to']}"
    end = (date.fromisoformat(s["to"]) + timedelta(days=1)).isoformat()
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def raw_query() -> None:
        raw.execute(RAW_QUERY, (s["from"], end)).fetchall()

    newest = write_from(s["to"][:8] + "01")
    in_quarter = write_from(s["quarter_first_day"])
    trend_url = f"/reports/trends?{span}"
    team_url = f"/reports/trends?{span}&team={s['team_id']}"
    quarterly_url = f"/reports/quarterly/{s['quarter']}"
    results = {
        "trend": median_ms(get(trend_url), newest),
        "trend_json": median_ms(get(f"/reports/trends.json?{span}"), newest),
        "trend_team": median_ms(get(team_url), newest),
        "quarterly": median_ms(get(quarterly_url), in_quarter),
        "quarterly_json": median_ms(get(f"/reports/quarterly/{s['quarter']}.json"), in_quarter),
        "list": median_ms(get("/incidents/"), cold),
        "list_stage": median_ms(get(f"/incidents/?stage={s['stage_id']}"), cold),
        "raw_sql": median_ms(raw_query),
        "trend_kept": median_ms(get(trend_url)),
        "quarterly_kept": median_ms(get(quarterly_url)),
        "trend_cold": median_ms(get(trend_url), cold),
        "trend_team_cold": median_ms(get(team_url), cold),
        "quarterly_cold": median_ms(get(quarterly_url), cold),
        "healthz": median_ms(get("/healthz")),
    }
    raw.close()
    results["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**s, **results}


def measure_size(size: int) -> dict[str, Any]:
    """Copy the size's database and measure it in a fresh process."""
    source = cached_database(size)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        path = Path(tmp) / "bench.db"
        shutil.copy(source, path)
        out = subprocess.run(
            [sys.executable, "-m", "bench.reports", "--measure", str(path)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[int, dict[str, Any]]) -> bool:
    columns = [
        ("trend", "trend page"),
        ("trend_json", "trend JSON"),
        ("trend_team", "trend, one team"),
        ("quarterly", "quarterly page"),
        ("quarterly_json", "quarterly JSON"),
        ("list", "list"),
        ("list_stage", "list by stage"),
        ("raw_sql", "raw SQL floor"),
        ("trend_kept", "trend page, kept"),
        ("quarterly_kept", "quarterly, kept"),
        ("trend_cold", "trend page, cold"),
        ("trend_team_cold", "trend, team, cold"),
        ("quarterly_cold", "quarterly, cold"),
        ("healthz", "/healthz"),
    ]
    sizes = list(results)
    print("\nMedian server time in process, ms (reports after a write unless marked kept or cold)")
    print(f"{'':22}" + "".join(f"{size:>12,}" for size in sizes))
    for key, label in columns:
        print(f"{label:22}" + "".join(f"{results[s][key]:>12.1f}" for s in sizes))
    print(
        f"{'trend ÷ raw SQL':22}"
        + "".join(f"{r['trend'] / r['raw_sql']:>12.2f}" for r in results.values())
    )
    print(
        f"{'list by stage ÷ list':22}"
        + "".join(f"{r['list_stage'] / r['list']:>12.2f}" for r in results.values())
    )
    print(
        f"{'peak memory, MB':22}" + "".join(f"{r['max_rss_mb']:>12.0f}" for r in results.values())
    )
    print(f"{'quarter measured':22}" + "".join(f"{r['quarter']:>12}" for r in results.values()))
    largest = results[max(sizes)]
    checks = [
        (f"trend ≤ {TREND_RATIO:g}× raw SQL", largest["trend"] / largest["raw_sql"] <= TREND_RATIO),
        (f"trend < {TREND_MS:g} ms", largest["trend"] < TREND_MS),
        (f"trend, one team < {TREND_MS:g} ms", largest["trend_team"] < TREND_MS),
        (f"quarterly < {QUARTERLY_MS:g} ms", largest["quarterly"] < QUARTERLY_MS),
        (
            f"list by stage ≤ {LIST_RATIO:g}× list",
            largest["list_stage"] / largest["list"] <= LIST_RATIO,
        ),
        (
            f"peak memory < {MEMORY_MB:g} MB",
            all(r["max_rss_mb"] < MEMORY_MB for r in results.values()),
        ),
    ]
    print(f"\nTargets at {max(sizes):,} postmortems:")
    for label, ok in checks:
        print(f"  {verdict(ok)}  {label}")
    print(
        f"  (not a target) cold, every kept figure thrown away first: trend "
        f"{largest['trend_cold']:.0f} ms, one team {largest['trend_team_cold']:.0f} ms, "
        f"quarterly {largest['quarterly_cold']:.0f} ms"
    )
    passed = all(ok for _, ok in checks)
    print("All report targets met." if passed else "Some report targets missed (see above).")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
        f"Python {sys.version.split()[0]}; SQLite; sizes {', '.join(f'{s:,}' for s in SIZES)}; "
        f"{RUNS} runs a measurement, median"
    )
    results = {}
    for size in SIZES:
        results[size] = measure_size(size)
        r = results[size]
        print(
            f"{size:,}: trend {r['trend']:.1f} ms, quarterly {r['quarterly']:.1f} ms, "
            f"raw SQL {r['raw_sql']:.1f} ms, peak {r['max_rss_mb']:.0f} MB"
        )
    report(results)


if __name__ == "__main__":
    main()
