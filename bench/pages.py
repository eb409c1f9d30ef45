"""Every page's throughput against `/healthz` at 1,000, 10,000 and 100,000 postmortems
(`make bench`, issue 7), by this project's own method and by issue 18's outside one.

`--method own` is the method described here; `--method outside` is bench/outside.py's (2
clients, two shuffled rounds, the outside data shape, SQLite); `--method both`, the default,
prints both tables.

For each size it takes the generated SQLite database (bench/generate.py; cached under
.bench-cache/), serves a copy with gunicorn (2 sync workers, as in production), signs in as
an admin and as a reader through the real sign-in form, and measures each page with `ab`:
a fixed number of concurrent clients for about a fixed time, with `/healthz` measured right
before and right after it. A page's ratio is its requests/s over the mean of those two, so a
busy machine slows both sides alike; read the ratios, not the requests/s.

A page that does not answer 200 is reported and not measured; one that takes longer than
the timeout is reported as a timeout and the server is restarted, so that its unfinished
request does not slow the pages after it. The exit code is 0 even when targets fail: this
is a measurement, and the last line says how it went.

With `--database postgresql` (or BENCH_DATABASE=postgresql) the same pages are measured on
PostgreSQL: the generated file is copied once into a database of its own on the server that
BENCH_DATABASE_URL names (bench/generate.py `to_postgresql`), and each run serves a clone of
that database, dropped afterwards.

Environment: BENCH_SIZES (default "1000,10000,100000"), BENCH_SECONDS per measurement (4),
BENCH_CLIENTS (4), BENCH_TIMEOUT per request in seconds (30), BENCH_SEED, BENCH_DATABASE
(sqlite or postgresql), BENCH_DATABASE_URL (a PostgreSQL role with CREATEDB).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from bench import outside
from bench.generate import (
    ADMIN_EMAIL,
    READER_EMAIL,
    ROOT,
    SEED,
    Landmarks,
    cached_database,
    landmarks,
)
from bench.page_list import Page, deep_pages, pages
from bench.serve import (
    CLIENTS,
    SECONDS,
    TIMEOUT,
    WORKERS,
    Bench,
    Failed,
    Result,
    Server,
    serving,
    shout,
    sign_in,
)

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s]
ROLES = {"admin": ADMIN_EMAIL, "reader": READER_EMAIL}

# Issue 7: no page's cost (relative to /healthz) growing more than 3x from 10,000 to 100,000.
MAX_GROWTH = 3.0
TARGET_SIZE, GROWTH_FROM = 100_000, 10_000


def measure_size(size: int, backend: str, *, start_time: bool) -> list[Result]:
    """Every page as every role on the database of `size` postmortems."""
    database = cached_database(size, int(os.environ.get("BENCH_SEED", SEED)))
    # The PostgreSQL copy keeps the file's ids, so the same landmarks hold there.
    marks = landmarks(database)
    results = []
    with serving(database, backend) as server:
        if start_time:
            bare, ours = start_times(server)
            print(
                f"Start of a new process, median of 5: bare Flask app {bare:.2f} s, "
                f"postmortems {ours:.2f} s ({ours / bare:.1f}× bare)"
            )
        ready = server.start()
        print(f"gunicorn ({WORKERS} sync workers) answered /healthz {ready:.1f} s after start")
        print_header(size, marks, backend)
        try:
            sessions = {role: sign_in(server.port, email) for role, email in ROLES.items()}
        except (RuntimeError, Failed) as exc:
            shout(f"{exc}; nothing measured at {size:,}")
            print(server.log_tail(), file=sys.stderr)
            return [
                Result(p, role, None, None, None, str(exc))
                for p in pages(marks) + deep_pages(database)
                for role in ROLES
            ]
        bench = Bench(server)
        bench.measure_healthz()
        for page in pages(marks) + deep_pages(database):
            for role, cookies in sessions.items():
                result = bench.measure(page, role, cookies)
                print_result(result)
                results.append(result)
    return results


def start_times(server: Server, repeats: int = 5) -> tuple[float, float]:
    """Median wall time of a new Python process that creates a bare Flask app, and of one
    that creates this app on the server's database (imports included, as at every gunicorn
    worker's start)."""
    bare = "from flask import Flask; app = Flask('bare'); app.add_url_rule('/', 'i', lambda: 'ok')"
    ours = "from postmortems import create_app; create_app()"
    env = server.env
    medians = []
    for code in (bare, ours):
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
            times.append(time.perf_counter() - began)
        medians.append(statistics.median(times))
    return medians[0], medians[1]


# --- Reporting -------------------------------------------------------------------------


def print_header(size: int, marks: Landmarks, backend: str) -> None:
    print(
        f"\n== {size:,} postmortems on {backend} ==  postmortem {marks.postmortem_key} "
        f"(/incidents/{marks.postmortem_id}); largest stage {marks.stage_name!r} "
        f"({marks.stage_incidents:,} postmortems); most-linked guard #{marks.guard_id} "
        f"({marks.guard_incidents:,} postmortems)"
    )
    print(
        f"{'page':24} {'role':6} {'path':40} {'requests':>8} {'req/s':>8} {'median':>9} "
        f"{'/healthz':>9} {'ratio':>6}"
    )


def print_result(r: Result) -> None:
    baseline = f"{r.baseline:9.0f}" if r.baseline else f"{'—':>9}"
    if r.run is None:
        print(f"{r.page.name:24} {r.role:6} {r.page.path:40} FAILED: {r.problem}")
        return
    print(
        f"{r.page.name:24} {r.role:6} {r.page.path:40} {r.run.requests:8} {r.run.per_second:8.1f} "
        f"{r.run.median_ms:7.1f}ms {baseline} {r.ratio:6.3f}",
        flush=True,
    )


def verdict(page: Page, ratios: dict[int, float | None], problems: dict[int, str]) -> str:
    """PASS or FAIL against issue 7's targets, judged at 100,000; "—" when not measured."""
    if TARGET_SIZE not in ratios and TARGET_SIZE not in problems:
        return "—"
    at_target = ratios.get(TARGET_SIZE)
    if at_target is None:
        return "FAIL"
    reasons = []
    if at_target < page.target:
        reasons.append(f"<{page.target:.2f}")
    before = ratios.get(GROWTH_FROM)
    if before is not None and before / at_target > MAX_GROWTH:
        reasons.append(f"growth>{MAX_GROWTH:.0f}×")
    return "FAIL " + ", ".join(reasons) if reasons else "PASS"


def print_summary(measured: dict[int, list[Result]], backend: str) -> None:
    sizes = sorted(measured)
    print(
        f"\n== Ratio of each page's requests/s to /healthz on {backend}, measured side by side "
        f"({CLIENTS} clients, ~{SECONDS:g} s each) =="
    )
    print(
        f"{'page':24} {'role':6} "
        + "".join(f"{size:>9,}" for size in sizes)
        + f" {'growth 10k→100k':>16} {'target':>7}  verdict"
    )
    verdicts = []
    # Named by the largest size: a small database's "page 500" is its last page.
    for i, template in enumerate(measured[sizes[-1]]):
        row = {size: measured[size][i] for size in sizes}
        ratios = {size: r.ratio for size, r in row.items()}
        problems = {size: r.problem for size, r in row.items() if r.problem}
        cells = "".join(
            f"{ratios[s]:9.3f}" if ratios[s] is not None else f"{'failed':>9}" for s in sizes
        )
        low, high = ratios.get(GROWTH_FROM), ratios.get(TARGET_SIZE)
        growth = f"{low / high:15.2f}×" if low and high else f"{'—':>16}"
        result = verdict(template.page, ratios, problems)
        verdicts.append((template, result))
        print(
            f"{template.page.name:24} {template.role:6}{cells} {growth} "
            f"{'≥' + format(template.page.target, '.2f'):>7}  {result}"
        )
    judged = [(r, v) for r, v in verdicts if v != "—"]
    if not judged:
        print(
            f"\nSUMMARY: targets are judged at {TARGET_SIZE:,} postmortems, which this run did "
            f"not measure (BENCH_SIZES={','.join(map(str, sizes))})."
        )
        return
    failed = [f"{r.page.name} as {r.role} ({v})" for r, v in judged if v != "PASS"]
    if failed:
        print(
            f"\nSUMMARY: {len(judged) - len(failed)} of {len(judged)} page × role pass "
            f"issue 7's targets at {TARGET_SIZE:,}; failing: " + "; ".join(failed)
        )
    else:
        print(
            f"\nSUMMARY: all {len(judged)} page × role pass issue 7's targets at {TARGET_SIZE:,}."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("BENCH_DATABASE", "sqlite"),
        help="where the own method's pages read from (default: BENCH_DATABASE, else sqlite)",
    )
    parser.add_argument(
        "--method",
        choices=["outside", "own", "both"],
        default=os.environ.get("BENCH_METHOD", "both"),
        help="issue 18's outside method (always SQLite), issue 7's own, or both (the default)",
    )
    args = parser.parse_args()
    backend = args.database
    if shutil.which("ab") is None:
        sys.exit("`ab` is missing: apt-get install apache2-utils")
    if args.method in ("own", "both"):
        measure_own(backend)
    if args.method in ("outside", "both"):
        for size in SIZES:
            outside.measure_size(size)


def measure_own(backend: str) -> None:
    """Issue 7's method at every size, then its summary table."""
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
        f"Python {sys.version.split()[0]}; {backend}; sizes {', '.join(f'{s:,}' for s in SIZES)}; "
        f"{CLIENTS} clients, ~{SECONDS:g} s a measurement, {TIMEOUT} s request timeout"
    )
    measured: dict[int, list[Result]] = {}
    for n, size in enumerate(SIZES):
        measured[size] = measure_size(size, backend, start_time=n == 0)
        print(f"(load average {os.getloadavg()[0]:.2f})")
    print_summary(measured, backend)


if __name__ == "__main__":
    main()
