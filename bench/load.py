"""Concurrent writes through the real forms under gunicorn, then a count in the database
(`make bench-load`).

Each client signs in through the sign-in form, then loops: opens "File a postmortem", files
one, reads it, and adds a timeline event and a lesson through their forms, with no pause
between requests. A write is acknowledged when the app answers with the redirect to the
postmortem. After the run the server is stopped and every write is looked up in the
database: acknowledged writes must all be stored, and nothing may be stored that the user
was told failed. Exits non-zero on a lost or phantom write, a 5xx, a dropped connection or
"database is locked", so it can gate a change.

    python -m bench.load --database all --clients 20 --seconds 30
"""

import argparse
import os
import random
import re
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, select

from bench.browser import Browser, Response, find_form
from bench.harness import (
    DATABASES,
    HOST,
    LOCKED,
    PASSWORD,
    TimeUp,
    gate,
    gunicorn,
    main,
    percentile,
    print_server_log,
    run_clients,
    serving_problems,
)
from models import Incident, Lesson, Role, TimelineEvent
from postmortems import create_app
from postmortems.auth.service import create_user
from postmortems.cli import alembic_config
from postmortems.db import session

INCIDENT_PATH = re.compile(r"/incidents/(\d+)")
HOME_PATH = re.compile(r"/")  # where a sign-in lands
PAGE_KEY = re.compile(r"<title>\s*(PM-\d{4}-\d+)")

# The kinds of request, in the order a client makes them; POSTs other than sign-in write data.
SIGN_IN_PAGE = "GET  sign-in page"
SIGN_IN = "POST sign in"
FILE_FORM = "GET  file-a-postmortem form"
FILE = "POST file postmortem"
READ = "GET  postmortem page"
TIMELINE_FORM = "GET  timeline event form"
TIMELINE = "POST add timeline event"
LESSON_FORM = "GET  lesson form"
LESSON = "POST add lesson"
KINDS = (
    SIGN_IN_PAGE,
    SIGN_IN,
    FILE_FORM,
    FILE,
    READ,
    TIMELINE_FORM,
    TIMELINE,
    LESSON_FORM,
    LESSON,
)
WRITES = {FILE: "postmortems", TIMELINE: "timeline events", LESSON: "lessons"}


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it."""

    kind: str
    status: int  # 0: no answer
    seconds: float
    finished: float
    locked: bool  # the body says "database is locked"
    expected: bool  # the status the flow expects (200 for pages, the redirect for writes)


@dataclass
class Write:
    """One write attempt, identified in the database by the unique text it sent."""

    kind: str
    marker: str  # the postmortem's title, or the part's text
    incident_id: int | None  # filings: where the redirect pointed; parts: their postmortem
    acknowledged: bool
    key: str | None = None  # filings: the key the postmortem page showed


@dataclass
class ClientLog:
    samples: list[Sample] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    error: str | None = None


# --- The database -----------------------------------------------------------------------


def prepare(url: str, clients: int) -> list[str]:
    """Migrate the empty database and create one author account per client."""
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-setup", "DATABASE_URL": url})
    emails = [f"load-author-{n:02d}@example.com" for n in range(clients)]
    with app.app_context():
        for n, email in enumerate(emails):
            create_user(email, PASSWORD, Role.AUTHOR, name=f"Load author {n:02d}")
        session.commit()
    app.extensions["db_engine"].dispose()
    return emails


# --- The clients -------------------------------------------------------------------------


class LoadClient:
    """One author clicking through the forms as fast as the server answers."""

    def __init__(self, number: int, port: int, email: str, run_id: str) -> None:
        self.number, self.email, self.run_id = number, email, run_id
        self.browser = Browser(HOST, port)
        self.log = ClientLog()
        self.rng = random.Random(number)
        self.deadline = float("inf")
        self.attempt = 0

    def request(
        self,
        kind: str,
        path: str,
        data: list[tuple[str, str]] | None = None,
        expect: re.Pattern[str] | None = None,
    ) -> Response:
        """GET a page and expect a 200, or POST a form and expect a redirect to `expect`."""
        if time.perf_counter() >= self.deadline:
            raise TimeUp
        answer = self.browser.get(path) if data is None else self.browser.post(path, data)
        if expect is None:
            expected = answer.status == 200
        else:
            expected = answer.status == 302 and expect.fullmatch(answer.location) is not None
        locked = LOCKED in answer.text
        self.log.samples.append(
            Sample(kind, answer.status, answer.seconds, answer.finished, locked, expected)
        )
        return answer

    def sign_in(self) -> None:
        page = self.request(SIGN_IN_PAGE, "/auth/login")
        form = find_form(page.text, "password")
        if form is None:
            raise RuntimeError(f"no sign-in form (status {page.status})")
        typed = {"email": self.email, "password": PASSWORD}
        action = form.action or "/auth/login"
        answer = self.request(SIGN_IN, action, form.payload(typed), expect=HOME_PATH)
        if answer.status != 302:
            raise RuntimeError(f"sign-in answered {answer.status}")

    def run(self, started: threading.Barrier, deadline_box: list[float]) -> None:
        try:
            self.sign_in()
        except Exception as exc:  # reported in the results: one client must not stop the run
            self.log.error = f"client {self.number}: {exc}"
        started.wait()
        self.deadline = deadline_box[0]
        if self.log.error:
            return
        try:
            while True:
                self.attempt += 1
                self.one_postmortem()
        except TimeUp:
            pass
        except Exception as exc:
            self.log.error = f"client {self.number}: {exc!r}"

    def one_postmortem(self) -> None:
        """File a postmortem, then add a timeline event and a lesson to it."""
        page = self.request(FILE_FORM, "/incidents/new")
        form = find_form(page.text, "title")
        if form is None:
            return
        title = f"Load {self.run_id} c{self.number:02d} #{self.attempt:05d}: scores went flat"
        started = f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        hour = self.rng.randint(0, 20)
        typed = {
            "title": title,
            "summary": "A threshold change silently flattened the scores of one model.",
            "severity": self.rng.choice(form.options.get("severity") or [""]),
            "affected_system": "scoring service",
            "environment": "production",
            "started_at": f"{started}T{hour:02d}:00",
            "detected_at": f"{started}T{hour + 2:02d}:30",
            "what_happened_md": WHAT_HAPPENED,
            "analysis_md": ANALYSIS,
            "detection_md": "The on-call engineer saw the score histogram collapse.",
            "tags": self.rng.choice(["config", "release", "metrics", "config, release"]),
        }
        action = form.action or "/incidents/new"
        answer = self.request(FILE, action, form.payload(typed), expect=INCIDENT_PATH)
        match = INCIDENT_PATH.fullmatch(answer.location) if answer.status == 302 else None
        write = Write(FILE, title, int(match.group(1)) if match else None, match is not None)
        self.log.writes.append(write)
        if match is None:
            return
        incident = answer.location
        shown = PAGE_KEY.search(self.request(READ, incident).text)
        write.key = shown.group(1) if shown else None
        self.add_part(
            incident, "timeline", TIMELINE_FORM, TIMELINE, {"at": f"{started}T{hour + 1:02d}:15"}
        )
        self.add_part(incident, "lessons", LESSON_FORM, LESSON, {})

    def add_part(
        self, incident: str, part: str, form_kind: str, kind: str, typed: dict[str, str]
    ) -> None:
        """Open a part's form, fill it, send it with its hidden fields, follow the redirect."""
        page = self.request(form_kind, f"{incident}/{part}/new")
        field_name = "text_md"  # the timeline event's and the lesson's text
        form = find_form(page.text, field_name)
        if form is None:
            return
        marker = f"Load {self.run_id} c{self.number:02d} #{self.attempt:05d} {part}"
        typed = {**typed, field_name: f"{marker}: {PART_TEXT[part]}"}
        if "group" in form.options:
            typed["group"] = self.rng.choice(form.options["group"])
        action = form.action or f"{incident}/{part}/new"
        back = re.compile(re.escape(incident))
        answer = self.request(kind, action, form.payload(typed), expect=back)
        acknowledged = answer.status == 302 and answer.location == incident
        incident_id = int(incident.rsplit("/", 1)[1])
        self.log.writes.append(Write(kind, typed[field_name], incident_id, acknowledged))
        if acknowledged:
            self.request(READ, incident)


WHAT_HAPPENED = """\
A change meant to tune the **decision threshold** also changed the threshold used in
preprocessing, because both read the config key `threshold`.

- predictions looked plausible but were wrong
- the slow metrics test had been skipped by an override
"""
ANALYSIS = """\
| step | expected | seen |
|---|---|---|
| preprocessing | mask found | mask empty |
| scoring | AUC 0.9 | AUC 0.53 |
"""
PART_TEXT = {
    "timeline": "the score histogram collapsed to one bin; the on-call engineer was paged.",
    "lessons": "Name config keys so that each means **one** thing; run every test on every change.",
}


# --- Counting ----------------------------------------------------------------------------


@dataclass
class WriteCount:
    attempted: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0  # acknowledged, not in the database
    phantom: int = 0  # in the database, though the user was told it failed
    wrong_target: int = 0  # stored under another postmortem or key than the user was shown


def count_stored(url: str, writes: list[Write]) -> dict[str, WriteCount]:
    """Look every write up in the database by the unique text it sent."""
    engine = create_engine(url)
    with engine.connect() as conn:
        incidents: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for incident_id, key, title in conn.execute(
            select(Incident.id, Incident.key, Incident.title)
        ):
            incidents[title].append((incident_id, key))
        parts = {
            TIMELINE: set(conn.execute(select(TimelineEvent.text_md, TimelineEvent.incident_id))),
            LESSON: set(conn.execute(select(Lesson.text_md, Lesson.incident_id))),
        }
    engine.dispose()
    counts = {kind: WriteCount() for kind in WRITES}
    for write in writes:
        count = counts[write.kind]
        count.attempted += 1
        count.acknowledged += write.acknowledged
        if write.kind == FILE:
            rows = incidents.get(write.marker, [])
            stored = bool(rows)
            # The key is known only when the postmortem's page was read after filing.
            shown = (write.incident_id, write.key or (rows[0][1] if rows else None))
            wrong = write.acknowledged and stored and (len(rows) > 1 or rows[0] != shown)
        else:
            stored = (write.marker, write.incident_id) in parts[write.kind]
            wrong = False
        count.stored += stored
        count.lost += write.acknowledged and not stored
        count.phantom += stored and not write.acknowledged
        count.wrong_target += wrong
    return counts


def report(
    database: str,
    args: argparse.Namespace,
    logs: list[ClientLog],
    window_start: float,
    counts: dict[str, WriteCount],
    server_log: str,
    client_cpu: float,
    load_before: float,
) -> bool:
    """Print the results; return whether the run passes the gate."""
    samples = [s for log in logs for s in log.samples]
    timed = [s for s in samples if s.kind not in (SIGN_IN_PAGE, SIGN_IN)]
    window = (max((s.finished for s in timed), default=window_start) - window_start) or 1e-9
    writes = [s for s in timed if s.kind in WRITES]
    acknowledged = sum(c.acknowledged for c in counts.values())
    server_errors = sum(s.status >= 500 for s in samples)
    no_answer = sum(s.status == 0 for s in samples)
    client_errors = sum(400 <= s.status < 500 for s in samples)
    unexpected = sum(not s.expected for s in samples)
    locked = sum(s.locked for s in samples)

    print(
        f"\n== {database}: {args.clients} clients × {args.seconds:g} s, gunicorn "
        f"{args.workers} workers × {args.threads} threads, {os.cpu_count()} cores =="
    )
    print(
        f"{len(timed)} requests in {window:.1f} s: {len(timed) / window:.1f} requests/s; "
        f"writes {len(writes) / window:.1f}/s sent, {acknowledged / window:.1f}/s acknowledged"
    )
    # The clients share the machine with the server, and the machine may be shared: say how
    # much the clients took and how busy it was before the run.
    print(
        f"the clients used {client_cpu:.1f} s of CPU in the {window:.1f} s; "
        f"load average before the run: {load_before:.2f}"
    )
    print(f"\n{'request':30} {'count':>6} {'p50 ms':>8} {'p95 ms':>8}  statuses")
    for kind in KINDS:
        of_kind = [s for s in samples if s.kind == kind]
        if not of_kind:
            continue
        times = [s.seconds * 1000 for s in of_kind]
        statuses = Counter(s.status for s in of_kind)
        shown = "  ".join(f"{status or 'none'}×{n}" for status, n in sorted(statuses.items()))
        print(
            f"{kind:30} {len(of_kind):6} {percentile(times, 50):8.1f} "
            f"{percentile(times, 95):8.1f}  {shown}"
        )
    print(
        f"\n{'writes':16} {'attempted':>9} {'acked':>7} {'stored':>7} {'lost':>6} "
        f"{'phantom':>8} {'misfiled':>8}"
    )
    for kind, label in WRITES.items():
        c = counts[kind]
        print(
            f"{label:16} {c.attempted:9} {c.acknowledged:7} {c.stored:7} {c.lost:6} "
            f"{c.phantom:8} {c.wrong_target:8}"
        )
    print(
        f"\n5xx: {server_errors}   no answer: {no_answer}   4xx: {client_errors}   "
        f"other than the flow expects: {unexpected}   bodies with '{LOCKED}': {locked}"
    )
    client_failures = [log.error for log in logs if log.error]
    print_server_log(server_log, client_failures)
    problems = []
    if any(c.lost or c.phantom or c.wrong_target for c in counts.values()):
        problems.append("acknowledged writes differ from stored writes")
    return gate(problems + serving_problems(samples, server_log, client_failures))


# --- Main --------------------------------------------------------------------------------


def run(database: str, args: argparse.Namespace) -> bool:
    with DATABASES[database]() as url, tempfile.TemporaryDirectory() as folder:
        emails = prepare(url, args.clients)
        load_before = os.getloadavg()[0]
        log_path = Path(folder) / "gunicorn.log"
        with gunicorn(url, args.workers, args.threads, log_path) as port:
            cpu_before = time.process_time()
            run_id = uuid.uuid4().hex[:8]
            clients = [LoadClient(n, port, email, run_id) for n, email in enumerate(emails)]
            window_start = run_clients(clients, args.seconds)
            client_cpu = time.process_time() - cpu_before
        server_log = log_path.read_text(errors="replace")
        logs = [c.log for c in clients]
        writes = [w for log in logs for w in log.writes]
        counts = count_stored(url, writes)
        return report(
            database, args, logs, window_start, counts, server_log, client_cpu, load_before
        )


if __name__ == "__main__":
    main(__doc__.split("\n\n")[0], run)
