"""What the two load tests (`make bench-load`, `make bench-api`) share: a throwaway database,
gunicorn on a free port, client threads that start together, and the server log read for
errors. Each test brings its own clients, its own way of finding its writes in the database
and its own report."""

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench.browser import Browser

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postmortems:postmortems@127.0.0.1:5432/postmortems_test"
PASSWORD = "bench-load-password"
LOCKED = "database is locked"
TRACEBACK = "Traceback (most recent call last)"
# The last line of a traceback: the exception that reached the server.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Exit)\b.*$", re.M)


class TimeUp(Exception):
    """The run's time is over; the client sends nothing more."""


class Client(Protocol):
    """A client thread's body: wait at the barrier, then work until the deadline it is given."""

    def run(self, started: threading.Barrier, deadline_box: list[float]) -> None: ...


# --- Databases ---------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A throwaway database on the server BENCH_DATABASE_URL names, dropped afterwards."""
    admin_url = make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"pm_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # Autovacuum may hold the new database for a moment; FORCE ends our own leftovers.
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                break
            except DBAPIError:
                time.sleep(0.1 * (attempt + 1))
        else:
            print(f"warning: could not drop database {name}", file=sys.stderr)
        admin.dispose()


DATABASES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "sqlite": sqlite_database,
    "postgresql": postgresql_database,
}


# --- The server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(url: str, workers: int, threads: int, log_path: Path) -> Iterator[int]:
    """Serve the app with gunicorn on a free port until the block ends; yield the port."""
    port = free_port()
    env = dict(os.environ)
    env["POSTMORTEMS_DATABASE_URL"] = url
    env["POSTMORTEMS_SECRET_KEY"] = secrets.token_hex(32)
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    args += ["--threads", str(threads), "--bind", f"{HOST}:{port}", "app:app"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_until_serving(port, server)
            yield port
        finally:
            server.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before serving")
        probe = Browser(HOST, port, timeout=5)
        answered = probe.get("/auth/login").status
        probe.close()
        if answered == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


# --- The clients -------------------------------------------------------------------------


def run_clients(clients: Sequence[Client], seconds: float) -> float:
    """Run one thread per client; the timed window opens when all of them are ready (signed
    in). Return the window's start."""
    deadline_box, start_box = [0.0], [0.0]

    def open_window() -> None:  # runs once, when every client is ready
        start_box[0] = time.perf_counter()
        deadline_box[0] = start_box[0] + seconds

    started = threading.Barrier(len(clients), action=open_window)
    threads = [threading.Thread(target=c.run, args=(started, deadline_box)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return start_box[0]


# --- Reading the results -----------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    """Linear interpolation between closest ranks, as every figure in the project."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def logged_exceptions(log: str) -> Counter[str]:
    """The final exception of each traceback in the server's log, counted.

    Flask and gunicorn start each entry with a "[timestamp]" line; one entry holds one error
    with its chained causes, so its last exception line is the one that reached the server.
    """
    found: Counter[str] = Counter()
    for entry in re.split(r"^(?=\[)", log, flags=re.M):
        if TRACEBACK in entry:
            last = [match.group(0) for match in EXCEPTION_LINE.finditer(entry)]
            found[last[-1] if last else "(no exception line)"] += 1
    return found


def print_server_log(server_log: str, client_errors: list[str]) -> None:
    """Print what gunicorn logged (tracebacks, locks, timeouts) and the clients that stopped."""
    exceptions = logged_exceptions(server_log)
    print(
        f"gunicorn stderr: {exceptions.total()} logged tracebacks "
        f"({server_log.count(TRACEBACK)} traceback blocks with chained causes), "
        f"{server_log.count(LOCKED)} lines with '{LOCKED}', "
        f"{server_log.count('WORKER TIMEOUT')} worker timeouts"
    )
    for exception, n in exceptions.most_common(5):
        print(f"  {n:5}× {exception[:150]}")
    for error in client_errors:
        print(f"client stopped early: {error}")


class Answer(Protocol):
    @property
    def status(self) -> int: ...  # 0: no answer

    @property
    def locked(self) -> bool: ...  # the body says "database is locked"


def serving_problems(
    samples: Sequence[Answer], server_log: str, client_errors: list[str]
) -> list[str]:
    """What fails either load test whatever it wrote: 5xx, requests left unanswered, "database
    is locked" in an answer or the log, clients that stopped early."""
    server_errors = sum(s.status >= 500 for s in samples)
    no_answer = sum(s.status == 0 for s in samples)
    problems = []
    if server_errors:
        problems.append(f"{server_errors} responses with 5xx")
    if no_answer:
        problems.append(f"{no_answer} requests without an answer")
    if any(s.locked for s in samples) or LOCKED in server_log:
        problems.append(f"'{LOCKED}'")
    if client_errors:
        problems.append(f"{len(client_errors)} clients stopped early")
    return problems


def gate(problems: list[str]) -> bool:
    """Print PASS or FAIL with the problems; return whether the run passes."""
    print("FAIL: " + "; ".join(problems) if problems else "PASS")
    return not problems


def main(description: str, run: Callable[[str, argparse.Namespace], bool]) -> None:
    """Parse the options both load tests take, run on each database asked, exit 1 on a FAIL."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", choices=[*DATABASES, "all"], default="sqlite")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    databases = list(DATABASES) if args.database == "all" else [args.database]
    results = [run(database, args) for database in databases]
    sys.exit(0 if all(results) else 1)
