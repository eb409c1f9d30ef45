"""Every page's throughput against `/healthz` at 1,000, 10,000 and 100,000 postmortems
(`make bench`, issue 7).

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
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine

from bench.browser import find_form
from bench.generate import (
    ADMIN_EMAIL,
    DEFAULT_ADMIN_URL,
    PASSWORD,
    READER_EMAIL,
    ROOT,
    SEED,
    Landmarks,
    cached_database,
    clone_database,
    drop_database,
    landmarks,
    postgresql_name,
    to_postgresql,
)

HOST = "127.0.0.1"
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s]
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "30"))
WORKERS = 2
# Sent by every request, sign-in included: Flask-Login ties a session to the user agent, and
# a different one on later requests would make every answer rewrite the session cookie.
USER_AGENT = "postmortems-bench"
ROLES = {"admin": ADMIN_EMAIL, "reader": READER_EMAIL}

# Issue 7: the postmortem page at least a quarter of /healthz, every other page a tenth, and
# no page's cost (relative to /healthz) growing more than 3x from 10,000 to 100,000.
POSTMORTEM_TARGET = 0.25
PAGE_TARGET = 0.10
MAX_GROWTH = 3.0
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
TARGET_SIZE, GROWTH_FROM = 100_000, 10_000


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    target: float


def pages(marks: Landmarks) -> list[Page]:
    """The pages of issue 7, with this database's postmortem, stage and guard."""
    return [
        Page("postmortem page", f"/incidents/{marks.postmortem_id}", POSTMORTEM_TARGET),
        Page("list, page 1", "/incidents/", PAGE_TARGET),
        Page("list by largest stage", f"/incidents/?stage={marks.stage_id}", PAGE_TARGET),
        Page("list by category", "/incidents/?category=TECH_DEBT_CULTURE", PAGE_TARGET),
        Page("guard list", "/guards/", PAGE_TARGET),
        Page("most-linked guard", f"/guards/{marks.guard_id}", PAGE_TARGET),
        Page("causes", "/taxonomy/", PAGE_TARGET),
        Page("teams", "/teams/", PAGE_TARGET),
    ]


def deep_pages(database: Path) -> list[Page]:
    """The 500th page of the list and of the most-linked guard (issue 18), as the links by
    key that following "Older" 499 times reaches (20 a page; keys of the admin's view)."""
    marks = landmarks(database)
    before_page_500 = 499 * 20 - 1
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        in_list = db.execute(
            """SELECT started_at, id FROM incident WHERE source_collection IS NULL
               ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?""",
            (before_page_500,),
        ).fetchone()
        in_guard = db.execute(
            """SELECT started_at, id FROM incident WHERE id IN (
                 SELECT a.incident_id FROM action_item a
                 JOIN action_item_guard ag ON ag.action_item_id = a.id
                 WHERE ag.guard_check_id = ?)
               ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?""",
            (marks.guard_id, before_page_500),
        ).fetchone()
    finally:
        db.close()

    def cursor(row: tuple[str, int]) -> str:  # as postmortems/pagination.py writes it
        return datetime.fromisoformat(row[0]).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + f"_{row[1]}"

    return [
        Page("list, page 500", f"/incidents/?after={cursor(in_list)}", PAGE_TARGET),
        Page(
            "most-linked guard, p500",
            f"/guards/{marks.guard_id}?after={cursor(in_guard)}",
            PAGE_TARGET,
        ),
    ]


@dataclass(frozen=True)
class Run:
    """One `ab` run against one URL."""

    requests: int
    per_second: float
    median_ms: float


@dataclass(frozen=True)
class Result:
    """One page as one role: its run and the /healthz runs around it, or what went wrong."""

    page: Page
    role: str
    run: Run | None
    before: Run | None
    after: Run | None
    problem: str = ""

    @property
    def baseline(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return (self.before.per_second + self.after.per_second) / 2

    @property
    def ratio(self) -> float | None:
        baseline = self.baseline
        return None if self.run is None or not baseline else self.run.per_second / baseline


class Failed(Exception):
    """A page did not answer as it should; the message says how."""

    def __init__(self, message: str, *, restart: bool = False) -> None:
        super().__init__(message)
        self.restart = restart


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    text: str
    seconds: float
    cookies: dict[str, str]


def fetch(
    port: int,
    path: str,
    cookies: dict[str, str],
    form: list[tuple[str, str]] | None = None,
    timeout: float = TIMEOUT,
) -> Answer:
    """One request on a fresh connection (gunicorn's sync workers close every connection)."""
    headers = {"User-Agent": USER_AGENT}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    began = time.perf_counter()
    try:
        conn.request("POST" if form is not None else "GET", path, body, headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    except TimeoutError as exc:
        raise Failed(f"no answer within {timeout:.0f} s (timeout)", restart=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise Failed(f"connection failed: {exc!r}", restart=True) from exc
    finally:
        conn.close()
    seconds = time.perf_counter() - began
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return Answer(
        response.status,
        response.getheader("Location") or "",
        text,
        seconds,
        {name: morsel.value for name, morsel in jar.items()},
    )


def sign_in(port: int, email: str) -> dict[str, str]:
    """Sign in through the form like a browser: every hidden input (the CSRF token among them)
    with the email and password; return the cookies the signed-in session lives in."""
    page = fetch(port, "/auth/login", {})
    form = find_form(page.text, "email")
    if page.status != 200 or form is None:
        raise RuntimeError(f"GET /auth/login answered {page.status} without a sign-in form")
    cookies = page.cookies
    answer = fetch(
        port,
        form.action or "/auth/login",
        cookies,
        form.payload({"email": email, "password": PASSWORD}),
    )
    if answer.status != 302 or "/auth/login" in answer.location:
        raise RuntimeError(f"signing in as {email} answered {answer.status}, not a redirect")
    return cookies | answer.cookies


def ab(port: int, path: str, cookies: dict[str, str], requests: int) -> Run:
    """`ab -n requests -c CLIENTS`: every request runs to its end, so when ab returns the
    server is idle again (`-t` would abandon the requests in flight at the deadline, and a
    slow page would go on running into the next measurement)."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        n = max(requests, CLIENTS)
        command = f"ab -q -k -n {n} -c {CLIENTS} -s {TIMEOUT} -e {percentiles.name}".split()
        command += ["-H", f"User-Agent: {USER_AGENT}"]
        for name, value in cookies.items():
            command += ["-C", f"{name}={value}"]
        done = subprocess.run(
            [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            last = output.strip().splitlines()[-1:] or ["no output"]
            raise Failed(f"ab failed: {last[0]}", restart=True)
        median = re.search(r"^50,([\d.]+)$", Path(percentiles.name).read_text(), re.M)
    non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", output)
    if non_2xx:
        raise Failed(f"{non_2xx.group(1)} answers were not 2xx")
    broken = re.search(
        r"\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)", output
    )
    if broken and any(int(n) for n in broken.groups()):
        raise Failed(f"ab saw failed requests {broken.group(0)}", restart=True)
    complete = re.search(r"Complete requests:\s+(\d+)", output)
    per_second = re.search(r"Requests per second:\s+([\d.]+)", output)
    if not (complete and per_second and median):
        raise Failed(f"could not read ab's output:\n{output}")
    return Run(int(complete.group(1)), float(per_second.group(1)), float(median.group(1)))


# --- The server ------------------------------------------------------------------------


class Server:
    """gunicorn with 2 sync workers on one database, started and stopped on demand."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url, self.log = database_url, log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.env = os.environ | {
            "POSTMORTEMS_DATABASE_URL": database_url,
            "POSTMORTEMS_SECRET_KEY": secrets.token_hex(32),
        }

    def start(self) -> float:
        """Start and wait until /healthz answers; return how long that took."""
        self.port = free_port()
        began = time.perf_counter()
        # A worker busy longer than the request timeout is killed, freeing it for the rest.
        options = (
            f"--workers {WORKERS} --worker-class sync --bind {HOST}:{self.port} "
            f"--timeout {TIMEOUT + 5} --graceful-timeout 2"
        ).split()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options, "--error-logfile", str(self.log)]
            + ["app:create_app()"],
            cwd=ROOT,
            env=self.env,
        )
        while time.perf_counter() - began < 60:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see its log:\n{self.log_tail()}")
            try:
                if fetch(self.port, "/healthz", {}, timeout=5).status == 200:
                    return time.perf_counter() - began
            except Failed:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /healthz in 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 25) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(database: Path, backend: str) -> Iterator[Server]:
    """A copy of the database served by gunicorn: the cached one is never written to."""
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder, ExitStack() as stack:
        if backend == "postgresql":
            url = stack.enter_context(postgresql_clone(database))
        else:
            copy = Path(folder) / "postmortems.db"
            shutil.copyfile(database, copy)
            url = f"sqlite:///{copy}"
        server = Server(url, Path(folder) / "gunicorn.log")
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def postgresql_clone(database: Path) -> Iterator[str]:
    """A clone of the generated file's PostgreSQL copy (made first if need be), dropped at
    the end; yield its URL."""
    to_postgresql(database, ADMIN_URL)
    template = postgresql_name(database)
    clone = f"pm_bench_serve_{uuid.uuid4().hex[:12]}"
    began = time.perf_counter()
    url = clone_database(ADMIN_URL, template, clone)
    print(f"Serving {clone}, cloned from {template} in {time.perf_counter() - began:.1f} s")
    try:
        yield url
    finally:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        drop_database(admin, clone)
        admin.dispose()


# --- Measuring -------------------------------------------------------------------------


class Bench:
    """The measurements of one database size."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.healthz: Run | None = None  # the latest, shared by the pages on either side

    def measure_healthz(self) -> Run:
        rate = self.healthz.per_second if self.healthz else self._warm_up("/healthz", {}, 0.001)
        self.healthz = self._timed("/healthz", {}, rate)
        return self.healthz

    def measure(self, page: Page, role: str, cookies: dict[str, str]) -> Result:
        before = self.healthz or self.measure_healthz()
        try:
            first = fetch(self.server.port, page.path, cookies)
            if first.status != 200:
                where = f" to {first.location}" if first.location else ""
                raise Failed(f"answered {first.status}{where}")
            rate = self._warm_up(page.path, cookies, first.seconds)
            run = self._timed(page.path, cookies, rate)
        except Failed as exc:
            shout(f"{page.name} ({page.path}) as {role}: {exc}; not measured")
            if "answered 5" in str(exc) or "not 2xx" in str(exc):
                print(self.server.log_tail(), file=sys.stderr)
            if exc.restart:
                self.server.restart()
            self.healthz = None
            return Result(page, role, None, before, self.measure_healthz(), str(exc))
        return Result(page, role, run, before, self.measure_healthz())

    def _timed(self, path: str, cookies: dict[str, str], rate: float) -> Run:
        """An `ab` run of about SECONDS at the expected rate; run again, sized by what it
        measured, when it ended in less than half the time (the estimate came from a cold
        warm-up, or the machine got faster)."""
        run = ab(self.server.port, path, cookies, round(SECONDS * rate))
        if run.requests / run.per_second < SECONDS / 2:
            run = ab(self.server.port, path, cookies, round(SECONDS * run.per_second))
        return run

    def _warm_up(self, path: str, cookies: dict[str, str], seconds: float) -> float:
        """Fill both workers' caches for about a second; return the requests/s expected.

        A page slower than half a second is not warmed up further (its first request did).
        """
        if seconds > 0.5:
            return WORKERS / seconds
        warm = ab(self.server.port, path, cookies, min(2000, max(8, round(WORKERS / seconds))))
        return warm.per_second


def shout(message: str) -> None:
    print(f"\n!!! {message}\n", file=sys.stderr, flush=True)


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
    first = measured[sizes[0]]
    for i, template in enumerate(first):
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
        help="where the pages read from (default: BENCH_DATABASE, else sqlite)",
    )
    backend = parser.parse_args().database
    if shutil.which("ab") is None:
        sys.exit("`ab` is missing: apt-get install apache2-utils")
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
