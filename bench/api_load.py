"""Writes through the JSON API while people read pages, under gunicorn, then a count in the
database (`make bench-api`).

Half the clients are scripts with a reviewer's API token: each files postmortems with all
their parts (two timeline events, a factor, an impact, a lesson, an action item with a new
guard check), one `POST /api/v1/postmortems` each, and after each reports a run of a guard
check (`POST /api/v1/guards/<id>/runs`, as a CI job does), as fast as the server answers. The
other half are people signed in through the sign-in form who read postmortem pages and, after
each, `/healthz` (a bare Flask route with one `SELECT 1`). A write is acknowledged when the
API answers 201 (with the postmortem's id and key, or the run's id). After the run the server
is stopped and every write is looked up in the database (a postmortem with its parts):
acknowledged writes must all be stored whole, under the id and key the API gave, and nothing
may be stored that the API refused. Exits non-zero on a lost, partial or phantom write, a 5xx,
a dropped connection or "database is locked".

The page's throughput is compared with /healthz's in the same run, by the same clients: the
ratio of the rates one client gets from each (the inverse of their mean latencies).

    python -m bench.api_load --database sqlite --clients 20 --seconds 30
"""

import argparse
import http.client
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, func, select

from bench.browser import Browser, find_form
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
from models import (
    ActionItem,
    GuardCheck,
    GuardKind,
    GuardRun,
    ImpactEstimate,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Lesson,
    Role,
    TimelineEvent,
)
from postmortems import create_app
from postmortems.auth.service import create_user
from postmortems.cli import alembic_config
from postmortems.db import session
from postmortems.incidents.service import IncidentValues, create_incident
from postmortems.tokens.service import create_token

API_FILE = "POST /api/v1/postmortems"
API_RUN = "POST /api/v1/guards/<id>/runs"
PAGE = "GET  postmortem page"
HEALTH = "GET  /healthz"
KINDS = (API_FILE, API_RUN, PAGE, HEALTH)
WRITES = (API_FILE, API_RUN)
SEEDED = 20  # published postmortems the readers read
GUARDS = 5  # guard checks the writers report runs of
# What each filed postmortem must have in the database: its parts, by model.
# How many of each part a filing sends, by the column that ties the part to its postmortem.
PARTS = {
    TimelineEvent.incident_id: 2,
    IncidentFactor.incident_id: 1,
    ImpactEstimate.incident_id: 1,
    Lesson.incident_id: 1,
    ActionItem.incident_id: 1,
}
WHAT_HAPPENED = """\
A change meant to tune the **decision threshold** also changed the threshold used in
preprocessing, because both read the config key `threshold`.

- predictions looked plausible but were wrong
- the slow metrics test had been skipped by an override
"""


@dataclass(frozen=True)
class Sample:
    kind: str
    status: int  # 0: no answer
    seconds: float
    finished: float
    locked: bool


@dataclass
class Write:
    kind: str
    title: str  # the postmortem's title, or the run's details: unique to this write
    acknowledged: bool
    incident_id: int | None = None  # a postmortem's id, or a run's
    key: str | None = None


@dataclass
class ClientLog:
    samples: list[Sample] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    error: str | None = None


def prepare(
    url: str, writers: int, readers: int
) -> tuple[list[str], list[str], list[int], list[int]]:
    """Migrate; make a reviewer with a token per writer, an account per reader, the published
    postmortems they read and the guard checks runs are reported for. Returns the tokens, the
    readers' emails, the postmortems' ids and the guards' ids."""
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-setup", "DATABASE_URL": url})
    tokens, emails, ids, guard_ids = [], [], [], []
    with app.app_context():
        for n in range(writers):
            email = f"api-writer-{n:02d}@example.com"
            user = create_user(email, PASSWORD, Role.REVIEWER, name=f"Writer {n:02d}")
            tokens.append(create_token(user, "load")[1])
        for n in range(readers):
            email = f"page-reader-{n:02d}@example.com"
            create_user(email, PASSWORD, Role.READER, name=f"Reader {n:02d}")
            emails.append(email)
        for n in range(SEEDED):
            values = IncidentValues(
                title=f"Seeded postmortem {n}",
                started_at=datetime(2024, 1, 1 + n, 9, tzinfo=UTC),
                what_happened_md=WHAT_HAPPENED,
            )
            ids.append(create_incident(values, author=None, status=IncidentStatus.PUBLISHED).id)
        for n in range(GUARDS):
            guard = GuardCheck(name=f"Load guard {n}", kind=GuardKind.CI_GATE)
            session.add(guard)
            session.flush()
            guard_ids.append(guard.id)
        session.commit()
    app.extensions["db_engine"].dispose()
    return tokens, emails, ids, guard_ids


class Client:
    """One keep-alive connection that records every request it makes."""

    def __init__(self, number: int, port: int) -> None:
        self.number = number
        self.port = port
        self.log = ClientLog()
        self.rng = random.Random(number)
        self.deadline = float("inf")

    def sample(self, kind: str, status: int, text: str, began: float) -> None:
        finished = time.perf_counter()
        self.log.samples.append(Sample(kind, status, finished - began, finished, LOCKED in text))

    def check_time(self) -> None:
        if time.perf_counter() >= self.deadline:
            raise TimeUp

    def prepare(self) -> None:
        """Before the timed window (signing in, for a reader)."""

    def loop(self) -> None:
        raise NotImplementedError

    def run(self, started: threading.Barrier, deadline_box: list[float]) -> None:
        try:
            self.prepare()
        except Exception as exc:  # reported in the results: one client must not stop the run
            self.log.error = f"client {self.number}: {exc}"
        started.wait()
        self.deadline = deadline_box[0]
        if self.log.error:
            return
        try:
            while True:
                self.loop()
        except TimeUp:
            pass
        except Exception as exc:
            self.log.error = f"client {self.number}: {exc!r}"


class Writer(Client):
    """A script filing whole postmortems through the API with its token."""

    def __init__(
        self, number: int, port: int, token: str, run_id: str, guard_ids: list[int]
    ) -> None:
        super().__init__(number, port)
        self.token, self.run_id, self.attempt, self.guard_ids = token, run_id, 0, guard_ids
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def post(self, kind: str, path: str, body: str) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            self.conn.request("POST", path, body, headers)
            answer = self.conn.getresponse()
            status, text = answer.status, answer.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status, text = 0, ""
        self.sample(kind, status, text, began)
        return status, text

    def loop(self) -> None:
        self.check_time()
        self.file_postmortem()
        self.check_time()
        self.report_run()

    def report_run(self) -> None:
        details = f"API load {self.run_id} w{self.number:02d} #{self.attempt:05d}: checked"
        guard_id = self.rng.choice(self.guard_ids)
        body = json.dumps(
            {
                "status": self.rng.choice(["pass", "pass", "pass", "fail"]),
                "url": f"https://ci.example.com/jobs/{self.number}-{self.attempt}",
                "details": details,
            }
        )
        status, text = self.post(API_RUN, f"/api/v1/guards/{guard_id}/runs", body)
        run_id = json.loads(text)["id"] if status == 201 else None
        self.log.writes.append(Write(API_RUN, details, status == 201, run_id))

    def file_postmortem(self) -> None:
        self.attempt += 1
        title = f"API load {self.run_id} w{self.number:02d} #{self.attempt:05d}: scores went flat"
        day = f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        body = json.dumps(
            {
                "title": title,
                "summary": "A threshold change silently flattened the scores of one model.",
                "severity": self.rng.choice(["SEV1", "SEV2", "SEV3", "SEV4"]),
                "started_at": f"{day}T09:00:00Z",
                "detected_at": f"{day}T11:30:00+02:00",
                "what_happened_md": WHAT_HAPPENED,
                "tags": [self.rng.choice(["config", "release", "metrics"])],
                "timeline": [
                    {"at": f"{day}T09:00:00Z", "text_md": "Release with the new threshold."},
                    {"at": f"{day}T09:25:00Z", "text_md": "The score histogram collapses."},
                ],
                "factors": [
                    {
                        "category": "TECH_DEBT_CULTURE",
                        "factor": "Tangled code and configs",
                        "note": "One key, two meanings.",
                        "is_primary": True,
                    }
                ],
                "impacts": [{"kind": "LOST_REVENUE", "likely": "1234.56", "currency": "EUR"}],
                "lessons": [{"group": "TECHNICAL", "text_md": "Name config keys once."}],
                "action_items": [
                    {
                        "title": "Add a result-unchanged test",
                        "group": "TECHNICAL",
                        "type": "PREVENTIVE",
                        "guards": [
                            f"Result unchanged {self.run_id} w{self.number} #{self.attempt}"
                        ],
                    }
                ],
            }
        )
        status, text = self.post(API_FILE, "/api/v1/postmortems", body)
        write = Write(API_FILE, title, acknowledged=False)
        if status == 201:
            created = json.loads(text)
            write = Write(API_FILE, title, True, created["id"], created["key"])
        self.log.writes.append(write)


class Reader(Client):
    """A person signed in through the form, reading postmortem pages, with /healthz between."""

    def __init__(self, number: int, port: int, email: str, ids: list[int]) -> None:
        super().__init__(number, port)
        self.email, self.ids = email, ids
        self.browser = Browser(HOST, port)

    def prepare(self) -> None:
        page = self.browser.get("/auth/login")
        form = find_form(page.text, "password")
        if form is None:
            raise RuntimeError(f"no sign-in form (status {page.status})")
        typed = {"email": self.email, "password": PASSWORD}
        answer = self.browser.post(form.action or "/auth/login", form.payload(typed))
        if answer.status != 302:
            raise RuntimeError(f"sign-in answered {answer.status}")

    def loop(self) -> None:
        for kind, path in ((PAGE, f"/incidents/{self.rng.choice(self.ids)}"), (HEALTH, "/healthz")):
            self.check_time()
            began = time.perf_counter()
            answer = self.browser.get(path)
            self.sample(kind, answer.status, answer.text, began)


@dataclass
class WriteCount:
    attempted: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0  # acknowledged, not in the database
    partial: int = 0  # stored without all of its parts
    phantom: int = 0  # in the database, though the API refused it
    misfiled: int = 0  # stored under another id or key than the API answered


def count_stored(url: str, writes: list[Write]) -> dict[str, WriteCount]:
    """Look every write up in the database by its unique text: a postmortem by its title,
    with its parts; a run by its details."""
    engine = create_engine(url)
    with engine.connect() as conn:
        runs: dict[str, list[tuple[int, None]]] = defaultdict(list)
        for run_id, details in conn.execute(select(GuardRun.id, GuardRun.details)):
            runs[details].append((run_id, None))
        by_title: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for incident_id, key, title in conn.execute(
            select(Incident.id, Incident.key, Incident.title)
        ):
            by_title[title].append((incident_id, key))
        part_counts = {
            column: dict(conn.execute(select(column, func.count()).group_by(column)).all())
            for column in PARTS
        }
    engine.dispose()
    counts = {kind: WriteCount() for kind in WRITES}
    for write in writes:
        count = counts[write.kind]
        rows = (by_title if write.kind == API_FILE else runs).get(write.title, [])
        count.attempted += 1
        count.acknowledged += write.acknowledged
        count.stored += bool(rows)
        count.lost += write.acknowledged and not rows
        count.phantom += bool(rows) and not write.acknowledged
        if write.acknowledged and rows:
            count.misfiled += rows != [(write.incident_id, write.key)]
            if write.kind == API_FILE:
                whole = all(part_counts[m].get(rows[0][0], 0) == n for m, n in PARTS.items())
                count.partial += not whole
    return counts


def report(
    database: str,
    args: argparse.Namespace,
    logs: list[ClientLog],
    window_start: float,
    counts: dict[str, WriteCount],
    server_log: str,
) -> bool:
    """Print the results; return whether the run passes the gate."""
    samples = [s for log in logs for s in log.samples]
    window = (max((s.finished for s in samples), default=window_start) - window_start) or 1e-9
    print(
        f"\n== {database}: {args.clients} clients ({args.clients // 2} writing through the API, "
        f"{args.clients - args.clients // 2} reading pages) × {args.seconds:g} s, gunicorn "
        f"{args.workers} workers × {args.threads} threads, {os.cpu_count()} cores =="
    )
    reads = [s for s in samples if s.kind not in WRITES]
    writes = [s for s in samples if s.kind in WRITES]
    acknowledged = sum(c.acknowledged for c in counts.values())
    print(
        f"{len(samples)} requests in {window:.1f} s: reads {len(reads) / window:.1f}/s, "
        f"writes {len(writes) / window:.1f}/s sent, "
        f"{acknowledged / window:.1f}/s acknowledged"
    )
    print(f"\n{'request':28} {'count':>6} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8}  statuses")
    means = {}
    for kind in KINDS:
        of_kind = [s for s in samples if s.kind == kind]
        if not of_kind:
            continue
        times = [s.seconds * 1000 for s in of_kind]
        means[kind] = statistics.fmean(times)
        statuses = Counter(s.status for s in of_kind)
        shown = "  ".join(f"{status or 'none'}×{n}" for status, n in sorted(statuses.items()))
        print(
            f"{kind:28} {len(of_kind):6} {len(of_kind) / window:7.1f} "
            f"{percentile(times, 50):8.1f} {percentile(times, 95):8.1f}  {shown}"
        )
    if PAGE in means and HEALTH in means:
        print(
            f"\npostmortem page ÷ /healthz throughput (per client, same run): "
            f"{means[HEALTH] / means[PAGE]:.2f}"
        )
    print(
        f"\n{'writes':30} {'attempted':>9} {'acked':>6} {'stored':>6} {'lost':>5} "
        f"{'partial':>7} {'phantom':>7} {'misfiled':>8}"
    )
    for kind, c in counts.items():
        print(
            f"{kind:30} {c.attempted:9} {c.acknowledged:6} {c.stored:6} {c.lost:5} "
            f"{c.partial:7} {c.phantom:7} {c.misfiled:8}"
        )
    server_errors = sum(s.status >= 500 for s in samples)
    no_answer = sum(s.status == 0 for s in samples)
    locked = sum(s.locked for s in samples)
    unexpected = Counter(
        s.status for s in samples if s.status != (201 if s.kind in WRITES else 200)
    )
    print(
        f"5xx: {server_errors}   no answer: {no_answer}   other statuses: {dict(unexpected)}   "
        f"bodies with '{LOCKED}': {locked}"
    )
    failures = [log.error for log in logs if log.error]
    print_server_log(server_log, failures)
    problems = []
    if any(c.lost or c.partial or c.phantom or c.misfiled for c in counts.values()):
        problems.append("acknowledged writes differ from stored writes")
    if unexpected:
        problems.append(f"unexpected statuses {dict(unexpected)}")
    return gate(problems + serving_problems(samples, server_log, failures))


def run(database: str, args: argparse.Namespace) -> bool:
    writers = args.clients // 2
    with DATABASES[database]() as url, tempfile.TemporaryDirectory() as folder:
        tokens, emails, ids, guard_ids = prepare(url, writers, args.clients - writers)
        log_path = Path(folder) / "gunicorn.log"
        with gunicorn(url, args.workers, args.threads, log_path) as port:
            run_id = uuid.uuid4().hex[:8]
            clients: list[Client] = [
                Writer(n, port, t, run_id, guard_ids) for n, t in enumerate(tokens)
            ]
            clients += [Reader(writers + n, port, e, ids) for n, e in enumerate(emails)]
            window_start = run_clients(clients, args.seconds)
        server_log = log_path.read_text(errors="replace")
        logs = [c.log for c in clients]
        counts = count_stored(url, [w for log in logs for w in log.writes])
        return report(database, args, logs, window_start, counts, server_log)


if __name__ == "__main__":
    main(__doc__.split("\n\n")[0], run)
