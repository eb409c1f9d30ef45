"""Measuring one page against `/healthz` under gunicorn (`make bench`, both methods): the
HTTP client and the real sign-in form, the `ab` runner, the server, and `Bench`, which puts
each page's `ab` run between two `/healthz` runs."""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine

from bench.browser import find_form
from bench.generate import (
    DEFAULT_ADMIN_URL,
    PASSWORD,
    ROOT,
    clone_database,
    drop_database,
    postgresql_name,
    to_postgresql,
)
from bench.page_list import Page

HOST = "127.0.0.1"
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "30"))
WORKERS = 2
# Sent by every request, sign-in included: Flask-Login ties a session to the user agent, and
# a different one on later requests would make every answer rewrite the session cookie.
USER_AGENT = "postmortems-bench"
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)


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


def ab(port: int, path: str, cookies: dict[str, str], requests: int, clients: int = CLIENTS) -> Run:
    """`ab -n requests -c clients`: every request runs to its end, so when ab returns the
    server is idle again (`-t` would abandon the requests in flight at the deadline, and a
    slow page would go on running into the next measurement)."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        n = max(requests, clients)
        command = f"ab -q -k -n {n} -c {clients} -s {TIMEOUT} -e {percentiles.name}".split()
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
    """The measurements of one database size, by `clients` concurrent `ab` clients."""

    def __init__(self, server: Server, clients: int = CLIENTS) -> None:
        self.server, self.clients = server, clients
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
        port, clients = self.server.port, self.clients
        run = ab(port, path, cookies, round(SECONDS * rate), clients)
        if run.requests / run.per_second < SECONDS / 2:
            run = ab(port, path, cookies, round(SECONDS * run.per_second), clients)
        return run

    def _warm_up(self, path: str, cookies: dict[str, str], seconds: float) -> float:
        """Fill both workers' caches for about a second; return the requests/s expected.

        A page slower than half a second is not warmed up further (its first request did).
        """
        if seconds > 0.5:
            return WORKERS / seconds
        requests = min(2000, max(8, round(WORKERS / seconds)))
        warm = ab(self.server.port, path, cookies, requests, self.clients)
        return warm.per_second


def shout(message: str) -> None:
    print(f"\n!!! {message}\n", file=sys.stderr, flush=True)
