"""A synthetic SQLite database of many postmortems, for `make bench` (issue 7).

    python -m bench.generate 100000            # into .bench-cache/, reused when present
    python -m bench.generate 1000 -o /tmp/x.db
    python -m bench.generate 100000 --postgresql   # and a copy on PostgreSQL (`to_postgresql`)

The schema comes from the Alembic migrations; the rows go in with SQLAlchemy Core bulk
inserts (executemany, one transaction per chunk of postmortems), not through the services:
the services would take an hour at 100,000. The data is seeded, so the same size and seed
give the same database: 20 teams growing through 10 years and 4 growth stages, postmortems
spread over those years in proportion to headcount (mostly published, some drafts, in review
or archived; mixed severities; some restricted, near-misses or excluded from metrics), each
with ~3 timeline events, 2 factors, 2 impact estimates, a lesson and 2 action items linked to
300 guard checks, a few of which are linked from thousands of postmortems, and 60 tags.

Columns the generator does not know (added to the models later) get their Python-side
defaults; a `*_html` column beside a `*_md` one gets the Markdown rendered by the app's own
renderer, and a NOT NULL column without a default gets an empty value, with a warning.

`to_postgresql` copies a generated file, typed through the models' columns, into a database
of its own on a PostgreSQL server (migrated with the project's Alembic, filled with COPY,
vacuumed and analysed), made once and reused like the file.
"""

import argparse
import bisect
import functools
import hashlib
import itertools
import os
import random
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import psycopg
from alembic import command
from alembic.script import ScriptDirectory
from psycopg import sql as psql
from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    Integer,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import String

from models import (
    ActionStatus,
    ActionType,
    Base,
    GuardKind,
    GuardStatus,
    ImpactKind,
    ImpactLevel,
    IncidentStatus,
    LessonGroup,
    ReviewAction,
    Role,
    Severity,
)
from postmortems.cli import alembic_config
from postmortems.search import schema as search_schema

# Bump when the generated data changes, so that cached databases are made again.
GENERATOR_VERSION = 3  # 2: a share in Russian (search); 3: 20 teams over 10 years (issue 9)
SEED = 20200801
ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".bench-cache"

ADMIN_EMAIL = "bench-admin@example.com"
READER_EMAIL = "bench-reader@example.com"
PASSWORD = "bench-password-1234"  # every generated account's; the file is throwaway

CHUNK = 5_000  # postmortems per transaction
FIRST_DAY = date(2016, 1, 1)  # ten years, all before today
GUARDS = 300
TAGS = 60
# Distinct texts per kind of Markdown section. Repeating them lets the generator render each
# one once (the app's renderer takes ~0.5 ms a text; 1.4 million texts would take 12 minutes);
# the pages read stored rows and cannot tell a repeated text from a unique one.
TEXT_VARIANTS = 1_000

TEAMS = [
    # name, first day (years after the start), first headcount, people added a year
    ("ML", 0.0, 4, 5.0),
    ("Backend", 0.0, 2, 4.0),
    ("Data platform", 0.8, 2, 3.5),
    ("Frontend", 1.3, 2, 2.5),
    ("QA", 1.8, 2, 2.0),
    ("Infrastructure", 2.2, 2, 3.0),
    ("Research", 2.6, 3, 2.0),
    ("Client integrations", 3.2, 2, 4.0),
]
# The team that ends (a snapshot of 0) this many years after the start.
TEAM_ENDS = ("Research", 5.0)
STAGES = [
    ("Founding", 0, 10, "A handful of people; everyone knows every system."),
    ("Early", 11, 25, "Two or three teams; contracts between them start to matter."),
    ("Scaling", 26, 60, "Several teams; process has to carry what memory used to."),
    ("Growth", 61, None, "Many teams, many clients; nobody knows every system."),
]

SYSTEMS = [
    "triage-model",
    "ingest-api",
    "dicom-router",
    "billing-service",
    "report-builder",
    "label-store",
    "feature-pipeline",
    "inference-gateway",
    "auth-service",
    "export-worker",
    "annotation-ui",
    "metrics-collector",
    "model-registry",
    "study-scheduler",
    "notification-service",
    "search-index",
    "calibration-job",
    "client-portal",
]
FAILURES = """
returned wrong probabilities
dropped studies silently
timed out under load
served a stale model
double-billed a client
lost annotations
rejected valid uploads
mislabelled a batch
ran out of disk
leaked memory
skipped the nightly export
rounded scores to integers
mixed up two clients' configs
stopped sending alerts
sent reports to the wrong client
scored every class alike
""".strip().splitlines()
TRIGGERS = """
a config change
a dependency upgrade
a schema migration
a new client onboarding
a certificate expiry
a traffic spike
a data format change upstream
a manual override
a failed deploy
a cloud provider outage
a cron change
a retraining run
a threshold tweak
a library's new default
""".strip().splitlines()
DETECTORS = """
the on-call engineer
a client's support ticket
the drift monitor
the nightly regression test
a radiologist reviewing results
the billing dashboard
an engineer watching the production stream
the external evaluator
""".strip().splitlines()
METRICS = ["ROC-AUC", "p95 latency", "error rate", "queue depth", "positive rate", "disk usage"]
UNITS = ["minutes", "hours", "days"]
ENVIRONMENTS = ["production"] * 6 + ["staging", "research", "client on-premises"]
TAG_WORDS = [
    "config",
    "testing",
    "monitoring",
    "release",
    "data",
    "client",
    "billing",
    "latency",
    "security",
    "migration",
    "model",
    "labels",
    "dicom",
    "backup",
    "alerting",
    "ci",
    "dependencies",
    "capacity",
    "onboarding",
    "contract",
    "calibration",
    "rounding",
    "thresholds",
    "rollback",
    "documentation",
    "access",
    "storage",
    "network",
    "scheduling",
    "evaluation",
]


@dataclass(frozen=True)
class Landmarks:
    """What the benchmark opens in a generated database."""

    incidents: int
    postmortem_id: int  # a published, unrestricted postmortem with every kind of part
    postmortem_key: str
    stage_id: int  # the growth stage with the most postmortems
    stage_name: str
    stage_incidents: int
    guard_id: int  # the guard check linked from the most postmortems
    guard_name: str
    guard_incidents: int


# --- The cache -------------------------------------------------------------------------


def schema_key() -> str:
    """The migration head, and a digest of the whole chain: a migration inserted before the
    head (as 0004 was, after 0005) changes the schema without changing the head."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = sorted(f"{rev.revision}<{rev.down_revision}" for rev in script.walk_revisions())
    digest = hashlib.sha256("\n".join(chain).encode()).hexdigest()[:8]
    return "+".join(sorted(script.get_heads())) + "-" + digest


def cached_path(incidents: int, seed: int = SEED) -> Path:
    """Where the database of this size lives, named after everything that shapes it."""
    return CACHE_DIR / f"postmortems-{incidents}-s{seed}-g{GENERATOR_VERSION}-{schema_key()}.db"


def cached_database(incidents: int, seed: int = SEED) -> Path:
    """The generated database of this size, made now unless a current one is cached.

    Older files of the same size (another generator version or migration head) are removed.
    """
    path = cached_path(incidents, seed)
    if path.exists():
        print(f"Reusing {path.relative_to(ROOT)}")
        return path
    CACHE_DIR.mkdir(exist_ok=True)
    for old in CACHE_DIR.glob(f"postmortems-{incidents}-*.db"):
        old.unlink()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    generate(partial, incidents=incidents, seed=seed)
    # Renamed only when complete, so that an interrupted run is never reused.
    os.replace(partial, path)
    return path


# --- Generating ------------------------------------------------------------------------


def generate(
    path: str | os.PathLike[str],
    incidents: int = 1_000,
    teams: int = 20,
    years: int = 10,
    seed: int = SEED,
) -> None:
    """Write a database of `incidents` postmortems to `path` (which must not exist)."""
    began = time.perf_counter()
    url = f"sqlite:///{path}"
    print(f"Generating {incidents:,} postmortems into {path}")
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        # A throwaway file written once: no fsync and no rollback journal on disk.
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

    generator = _Generator(random.Random(seed), incidents, teams, years)
    with engine.connect() as conn:
        generator.write(conn, began)
    engine.dispose()
    _render_leftover_markdown(url, generator.writer.unrendered)
    _build_search_index(url)
    size = os.path.getsize(path) / 2**20
    print(f"  done: {size:,.0f} MB in {time.perf_counter() - began:,.0f} s")


class _Writer:
    """Bulk inserts into the models' tables, fitted to whatever columns the tables have now."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: Counter[str] = Counter()
        self.unrendered: set[str] = set()
        self._warned: set[str] = set()

    def insert(self, table_name: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = Base.metadata.tables[table_name]
        rows = self._fit(table, rows)
        self.conn.execute(table.insert(), rows)
        self.rows[table_name] += len(rows)

    def _fit(self, table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        given = set(rows[0])
        gone = given - set(table.c.keys())
        if gone:
            self._warn(f"{table.name}: no columns {sorted(gone)} any more; left out")
            rows = [{k: v for k, v in row.items() if k not in gone} for row in rows]
        fill: dict[str, Callable[[dict[str, Any]], Any]] = {}
        for column in table.c:
            if column.name in given:
                continue
            source = _markdown_source(column.name, given)
            if source is not None:
                fill[column.name] = functools.partial(_render_column, source)
            elif column.name.endswith("_html"):
                self.unrendered.add(f"{table.name}.{column.name}")
            elif _needs_value(column):
                self._warn(f"{table.name}.{column.name}: NOT NULL without a default; left empty")
                fill[column.name] = functools.partial(_constant, _empty_value(column.type))
        if fill:
            rows = [row | {name: make(row) for name, make in fill.items()} for row in rows]
        return rows

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            print(f"  warning: {message}")


def _markdown_source(column: str, given: set[str]) -> str | None:
    """The Markdown column that an `x_html` column renders: `x_md`, or `x` (a factor's note)."""
    if not column.endswith("_html"):
        return None
    stem = column.removesuffix("_html")
    return next((name for name in (f"{stem}_md", stem) if name in given), None)


def _render_column(source: str, row: dict[str, Any]) -> str:
    return _rendered(row[source])


def _constant(value: Any, _row: dict[str, Any]) -> Any:
    return value


@functools.cache
def _rendered(markdown_text: str) -> str:
    """The app's sanitised HTML of a text, rendered once per distinct text."""
    from postmortems.markdown import render_markdown

    return str(render_markdown(markdown_text))


def _needs_value(column: Any) -> bool:
    return not (
        column.nullable
        or column.default is not None
        or column.server_default is not None
        or (column.primary_key and column.autoincrement in (True, "auto"))
    )


def _empty_value(column_type: Any) -> Any:
    if isinstance(column_type, Boolean):
        return False
    if isinstance(column_type, Integer):
        return 0
    if isinstance(column_type, String):  # Text too
        return ""
    return None


def _render_leftover_markdown(url: str, unrendered: set[str]) -> None:
    """Fill stored HTML the generator could not pair with a source, through the app's own
    `flask markdown render` when there is one (slow: every text is rendered)."""
    if not unrendered:
        return
    from postmortems import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    group = app.cli.commands.get("markdown")
    if group is None or "render" not in getattr(group, "commands", {}):
        print(f"  warning: {sorted(unrendered)} left empty; no `flask markdown render`")
        return
    print(f"  {sorted(unrendered)} unknown to the generator: flask markdown render ...")
    result = app.test_cli_runner().invoke(args=["markdown", "render"])
    app.extensions["db_engine"].dispose()
    if result.exit_code != 0:
        raise RuntimeError(f"flask markdown render failed:\n{result.output}") from result.exception
    print(f"  {result.output.strip()}")


def _build_search_index(url: str) -> None:
    """The rows went in with Core, past the session hooks that keep the search index: build
    it once now, as `flask search reindex` does."""
    from postmortems.search.index import rebuild

    began = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        documents = rebuild(conn)
    engine.dispose()
    print(f"  search index: {documents:,} documents in {time.perf_counter() - began:,.0f} s")


class _Generator:
    """Everything drawn from one seeded random generator, so the same seed gives the same rows."""

    def __init__(self, rng: random.Random, incidents: int, teams: int, years: int) -> None:
        self.rng = rng
        self.incidents = incidents
        self.teams = _team_plan(teams)
        self.days = years * 365 + years // 4
        self.last_day = FIRST_DAY + timedelta(days=self.days - 1)
        self.now = datetime.combine(self.last_day, datetime.min.time(), UTC) + timedelta(days=1)
        variants = min(TEXT_VARIANTS, max(50, incidents // 2))
        self.texts = {name: [make(rng) for _ in range(variants)] for name, make in TEXTS.items()}

    def write(self, conn: Connection, began: float) -> None:
        self.writer = _Writer(conn)
        with conn.begin():
            self._reference_data(conn)
        self._incidents(conn, began)
        with conn.begin():
            self.writer.insert(
                "incident_key_counter",
                [{"prefix": p, "last_number": n} for p, n in sorted(self.key_numbers.items())],
            )
        counts = ", ".join(f"{n:,} {t}" for t, n in self.writer.rows.most_common())
        print(f"  rows: {counts}")

    # Teams, stages, people, guards, tags.

    def _reference_data(self, conn: Connection) -> None:
        rng, w = self.rng, self.writer
        w.insert(
            "team",
            [
                {"id": i, "name": name, "description": f"The {name} team."}
                for i, (name, *_rest) in enumerate(self.teams, 1)
            ],
        )
        self.snapshots = self._headcount()
        w.insert("headcount_snapshot", self.snapshots)
        w.insert(
            "growth_stage",
            [
                {
                    "id": i,
                    "name": name,
                    "min_headcount": low,
                    "max_headcount": high,
                    "description": about,
                }
                for i, (name, low, high, about) in enumerate(STAGES, 1)
            ],
        )
        self._users()
        self.factors = list(conn.execute(text("SELECT id, category FROM contributing_factor")))
        # Tech debt is named most often, chance least, as in most companies' postmortems.
        weight = {"TECH_DEBT_CULTURE": 5, "PROCESS_COMMUNICATION": 3, "PERSONAL": 2, "CHANCE": 1}
        self.factor_weights = _cumulative([weight.get(c, 1) for _id, c in self.factors])
        w.insert("guard_check", [self._guard(i) for i in range(1, GUARDS + 1)])
        # Zipf: the first guards are linked from thousands of postmortems, most from a few.
        self.guard_weights = _cumulative([1 / rank for rank in range(1, GUARDS + 1)])
        tag_names = sorted({f"{a}-{b}" for a in TAG_WORDS for b in TAG_WORDS if a != b})
        tag_names = TAG_WORDS + rng.sample(tag_names, TAGS - len(TAG_WORDS))
        w.insert("tag", [{"id": i, "name": n} for i, n in enumerate(tag_names, 1)])
        self.tag_weights = _cumulative([1 / rank for rank in range(1, TAGS + 1)])

    def _headcount(self) -> list[dict[str, Any]]:
        """Quarterly snapshots per team from its first day; one team ends with a 0."""
        rows = []
        for team_id, (name, start_years, first, per_year) in enumerate(self.teams, 1):
            day = FIRST_DAY + timedelta(days=round(start_years * 365))
            end = TEAM_ENDS[1] if name == TEAM_ENDS[0] else None
            while day <= self.last_day:
                years_in = (day - FIRST_DAY).days / 365
                if end is not None and years_in >= end:
                    rows.append({"team_id": team_id, "on_date": day, "headcount": 0})
                    break
                count = first + per_year * (years_in - start_years) + self.rng.uniform(-1, 1)
                rows.append({"team_id": team_id, "on_date": day, "headcount": max(1, round(count))})
                day = _add_months(day, 3)
        return rows

    def _users(self) -> None:
        from werkzeug.security import generate_password_hash

        password_hash = generate_password_hash(PASSWORD)  # scrypt: once, not per account
        people = [
            (ADMIN_EMAIL, "Bench admin", Role.ADMIN, None),
            (READER_EMAIL, "Bench reader", Role.READER, 1),
            ("bench-reviewer@example.com", "Bench reviewer", Role.REVIEWER, 2),
        ] + [
            (f"bench-author{n}@example.com", f"Author {n}", Role.AUTHOR, n % len(self.teams) + 1)
            for n in range(1, 9)
        ]
        self.writer.insert(
            "user_account",
            [
                {
                    "id": i,
                    "email": email,
                    "name": name,
                    "password_hash": password_hash,
                    "role": role,
                    "team_id": team_id,
                    "is_active": True,
                    "created_at": datetime.combine(FIRST_DAY, datetime.min.time(), UTC),
                }
                for i, (email, name, role, team_id) in enumerate(people, 1)
            ],
        )
        self.admin_id, self.reviewer_id = 1, 3
        self.author_ids = list(range(4, len(people) + 1))

    def _guard(self, number: int) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(list(GuardKind))
        system = rng.choice(SYSTEMS)
        return {
            "id": number,
            "name": f"{kind.label}: {system} #{number}",
            "kind": kind,
            "location": f"{system}/checks/{kind.name.lower()}_{number}.yml",
            "description_md": rng.choice(self.texts["guard"]),
            "owner": f"{rng.choice(self.teams)[0]} team",
            "status": rng.choices(list(GuardStatus), weights=[2, 12, 1])[0],
            "created_at": self.now - timedelta(days=rng.randint(30, self.days)),
            "updated_at": self.now - timedelta(days=rng.randint(0, 30)),
        }

    # Postmortems and their parts.

    def _incidents(self, conn: Connection, began: float) -> None:
        rng = self.rng
        # Days weighted by company headcount: more people, more postmortems.
        timeline = _Headcount(
            [(s["team_id"], s["on_date"], s["headcount"]) for s in self.snapshots]
        )
        days = [FIRST_DAY + timedelta(days=d) for d in range(self.days)]
        weights = _cumulative([max(1, timeline.total(day)) for day in days])
        starts = sorted(
            datetime.combine(day, datetime.min.time(), UTC)
            + timedelta(seconds=rng.randrange(86400))
            for day in rng.choices(days, cum_weights=weights, k=self.incidents)
        )
        self.key_numbers: Counter[str] = Counter()
        part_ids: dict[str, Iterator[int]] = {name: itertools.count(1) for name in PART_TABLES}
        for first in range(0, self.incidents, CHUNK):
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_ORDER}
            for offset, started in enumerate(starts[first : first + CHUNK]):
                self._incident(first + offset + 1, started, rows, part_ids)
            with conn.begin():
                for name in TABLE_ORDER:
                    self.writer.insert(name, rows[name])
            done = min(first + CHUNK, self.incidents)
            elapsed = time.perf_counter() - began
            print(f"  {done:>9,}/{self.incidents:,} postmortems  {elapsed:6.1f} s", flush=True)

    def _incident(
        self,
        incident_id: int,
        started: datetime,
        rows: dict[str, list[dict[str, Any]]],
        part_ids: dict[str, Iterator[int]],
    ) -> None:
        rng, texts = self.rng, self.texts
        age = self.now - started
        status = _status(rng, age)
        near_miss = rng.random() < 0.08
        severity = rng.choices(
            list(Severity), weights=[1, 3, 9, 12] if near_miss else [5, 15, 45, 35]
        )[0]
        self.key_numbers[f"PM-{started.year}"] += 1
        detected = started + timedelta(minutes=rng.lognormvariate(4, 1.6))
        mitigated = detected + timedelta(minutes=rng.lognormvariate(3.5, 1.2))
        resolved: datetime | None = mitigated + timedelta(minutes=rng.lognormvariate(5, 1.3))
        if resolved is not None and resolved > self.now:
            resolved = None  # still being resolved
        team_id = rng.randint(1, len(self.teams)) if rng.random() < 0.95 else None
        author_id = rng.choice(self.author_ids)
        owner = rng.random()
        system = rng.choice(SYSTEMS)
        russian = rng.random() < RUSSIAN_SHARE
        failures, triggers = (RU_FAILURES, RU_TRIGGERS) if russian else (FAILURES, TRIGGERS)
        failure, trigger = rng.choice(failures), rng.choice(triggers)
        after = "после" if russian else "after"
        filed = min(self.now, started + timedelta(hours=rng.uniform(2, 240)))
        restricted = rng.random() < 0.04
        rows["incident"].append(
            {
                "id": incident_id,
                "key": f"PM-{started.year}-{self.key_numbers[f'PM-{started.year}']:03d}",
                "title": f"{system} {failure} {after} {trigger}"[:200],
                "summary": (
                    f"{system} {failure} for {rng.randint(2, 90)} {rng.choice(UNITS)} after "
                    f"{trigger}; found by {rng.choice(DETECTORS)}."
                )[:300],
                "severity": severity,
                "status": status,
                "team_id": team_id,
                "affected_system": system,
                "environment": rng.choice(ENVIRONMENTS),
                "started_at": started,
                "started_is_estimated": rng.random() < 0.2,
                "detected_at": detected,
                "detected_is_estimated": rng.random() < 0.1,
                "mitigated_at": mitigated,
                "mitigated_is_estimated": rng.random() < 0.1,
                "resolved_at": resolved,
                "resolved_is_estimated": rng.random() < 0.1,
                "what_happened_md": rng.choice(
                    texts["what_happened_ru" if russian else "what_happened"]
                ),
                "analysis_md": rng.choice(texts["analysis"]),
                "detection_md": rng.choice(texts["detection"]),
                "response_md": rng.choice(texts["response"]),
                "went_well_md": rng.choice(texts["went_well"]),
                "got_lucky_md": rng.choice(texts["got_lucky"]) if rng.random() < 0.5 else "",
                "author_id": author_id,
                "owner_id": author_id if owner < 0.6 else None,
                "owner_name": "" if owner < 0.6 else rng.choice(["Ana", "Bo", "Chen", "Dara"]),
                "is_restricted": restricted,
                "is_near_miss": near_miss,
                "exclude_from_metrics": rng.random() < 0.02,
                "recurrence_of_id": (
                    rng.randint(1, incident_id - 1)
                    if incident_id > 1 and rng.random() < 0.03
                    else None
                ),
                "created_at": filed,
                "updated_at": min(self.now, filed + timedelta(days=rng.uniform(0, 20))),
                "version": rng.randint(1, 6),
            }
        )
        if restricted:
            rows["incident_access"].append(
                {"incident_id": incident_id, "user_id": rng.choice(self.author_ids)}
            )
        end = resolved or self.now
        for _ in range(rng.choice([2, 3, 3, 4])):
            rows["timeline_event"].append(
                {
                    "id": next(part_ids["timeline_event"]),
                    "incident_id": incident_id,
                    "at": started + (end - started) * rng.random(),
                    "text_md": rng.choice(texts["timeline"]),
                }
            )
        for n, factor_index in enumerate(self._distinct(self.factor_weights, 2)):
            rows["incident_factor"].append(
                {
                    "id": next(part_ids["incident_factor"]),
                    "incident_id": incident_id,
                    "factor_id": self.factors[factor_index][0],
                    "note": rng.choice(texts["factor_note"]),
                    "is_primary": n == 0,
                }
            )
        for kind in rng.sample(list(ImpactKind), 2):
            rows["impact_estimate"].append(
                _impact(rng, next(part_ids["impact_estimate"]), incident_id, kind)
            )
        rows["lesson"].append(
            {
                "id": next(part_ids["lesson"]),
                "incident_id": incident_id,
                "group": rng.choice(list(LessonGroup)),
                "text_md": rng.choice(texts["lesson_ru" if russian else "lesson"]),
            }
        )
        for _ in range(2):
            action_id = next(part_ids["action_item"])
            rows["action_item"].append(self._action(action_id, incident_id, started, author_id))
            if rng.random() < 0.55:
                count = 2 if rng.random() < 0.15 else 1
                for guard_index in self._distinct(self.guard_weights, count):
                    rows["action_item_guard"].append(
                        {"action_item_id": action_id, "guard_check_id": guard_index + 1}
                    )
        for tag_index in self._distinct(self.tag_weights, rng.choice([0, 1, 1, 2, 2, 3])):
            rows["incident_tag"].append({"incident_id": incident_id, "tag_id": tag_index + 1})
        steps = {
            IncidentStatus.DRAFT: [],
            IncidentStatus.IN_REVIEW: [ReviewAction.SUBMITTED],
            IncidentStatus.PUBLISHED: [ReviewAction.SUBMITTED, ReviewAction.PUBLISHED],
            IncidentStatus.ARCHIVED: [
                ReviewAction.SUBMITTED,
                ReviewAction.PUBLISHED,
                ReviewAction.ARCHIVED,
            ],
        }[status]
        at = filed
        for step in steps:
            at = min(self.now, at + timedelta(hours=rng.uniform(1, 72)))
            rows["review_comment"].append(
                {
                    "incident_id": incident_id,
                    "user_id": author_id if step is ReviewAction.SUBMITTED else self.reviewer_id,
                    "at": at,
                    "action": step,
                    "text": rng.choice(REVIEW_TEXTS[step]),
                }
            )

    def _action(
        self, action_id: int, incident_id: int, started: datetime, author_id: int
    ) -> dict[str, Any]:
        rng = self.rng
        due = started.date() + timedelta(days=rng.randint(7, 90))
        overdue = due < self.now.date()
        status = rng.choices(
            list(ActionStatus), weights=[1, 1, 7, 1] if overdue else [5, 3, 1, 0.2]
        )[0]
        done = status is ActionStatus.DONE
        return {
            "id": action_id,
            "incident_id": incident_id,
            "title": rng.choice(ACTION_TITLES).format(system=rng.choice(SYSTEMS)),
            "details_md": rng.choice(self.texts["action"]),
            "group": rng.choice(list(LessonGroup)),
            "type": rng.choices(list(ActionType), weights=[5, 3, 2])[0],
            "owner": "" if rng.random() < 0.7 else rng.choice(["Ana", "Bo", "Chen", "Dara"]),
            "owner_id": author_id if rng.random() < 0.5 else None,
            "due_on": due,
            "status": status,
            "wont_do_reason": (
                "Superseded by a wider fix." if status is ActionStatus.WONT_DO else ""
            ),
            "completed_on": min(due, self.now.date()) if done else None,
            "tracker_url": f"https://tracker.example.com/browse/OPS-{action_id}",
        }

    def _distinct(self, cum_weights: list[float], count: int) -> list[int]:
        """`count` different indexes drawn with the given cumulative weights."""
        chosen: list[int] = []
        population = range(len(cum_weights))
        while len(chosen) < count:
            index = self.rng.choices(population, cum_weights=cum_weights)[0]
            if index not in chosen:
                chosen.append(index)
        return chosen


def _team_plan(teams: int) -> list[tuple[str, float, int, float]]:
    plan = TEAMS[:teams]
    for n in range(len(plan), teams):  # more teams than named ones: later, smaller ones
        plan.append((f"Team {n + 1}", 1.0 + n * 0.3, 2, 1.5))
    return plan


def _status(rng: random.Random, age: timedelta) -> IncidentStatus:
    """Recent postmortems are often still drafts or in review; old ones are published."""
    weights = [35, 25, 40, 0] if age < timedelta(days=45) else [3, 3, 87, 7]
    return rng.choices(list(IncidentStatus), weights=weights)[0]


def _impact(
    rng: random.Random, impact_id: int, incident_id: int, kind: ImpactKind
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": impact_id,
        "incident_id": incident_id,
        "kind": kind,
        "low": None,
        "likely": None,
        "high": None,
        "currency": None,
        "unit": "",
        "level": None,
        "method_note": rng.choice(METHOD_NOTES),
        "estimated_by": rng.choice(["Finance", "Team lead", "On-call engineer", "CTO"]),
    }
    if kind.is_qualitative:
        row["level"] = rng.choice(list(ImpactLevel))
        return row
    unit, largest = IMPACT_UNITS[kind]
    step = Decimal("0.01") if kind.is_money else Decimal(1)
    likely = Decimal(rng.randint(1, largest)) * step
    row["low"] = (likely / 2).quantize(step)
    row["likely"] = likely
    row["high"] = likely * rng.choice([1, 2, 3])
    if kind.is_money:
        row["currency"] = rng.choice(["EUR", "USD", "RUB"])
    else:
        row["unit"] = unit
    return row


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class _Headcount:
    """Company headcount on a day: each team's latest snapshot by then, summed."""

    def __init__(self, snapshots: Sequence[tuple[int, date, int]]) -> None:
        by_team: dict[int, list[tuple[date, int]]] = {}
        for team_id, on_date, headcount in snapshots:
            by_team.setdefault(team_id, []).append((on_date, headcount))
        self._teams = [sorted(points) for points in by_team.values()]
        self._dates = [[d for d, _ in points] for points in self._teams]

    def total(self, day: date) -> int:
        total = 0
        for dates, points in zip(self._dates, self._teams, strict=True):
            i = bisect.bisect_right(dates, day)
            if i:
                total += points[i - 1][1]
        return total


# --- Texts -----------------------------------------------------------------------------


def _what_happened(rng: random.Random) -> str:
    system, failure = rng.choice(SYSTEMS), rng.choice(FAILURES)
    return (
        f"After {rng.choice(TRIGGERS)}, **{system}** {failure} for about "
        f"{rng.randint(2, 72)} {rng.choice(UNITS)}. {rng.randint(10, 5000):,} studies went "
        f"through the affected path before the cause was found.\n\n"
        f"The change had passed review and the fast test suite; the slow suite was "
        f"{rng.choice(['skipped by an override', 'not run on this branch', 'blind to it'])}. "
        f"Clients saw {rng.choice(['wrong scores', 'late reports', 'errors', 'nothing at first'])}."
    )


def _analysis(rng: random.Random) -> str:
    causes = rng.sample(
        [
            "the config key `threshold` meant two different things",
            "no test compared results before and after the change",
            "the on-call rotation was one person for three weeks",
            "the contract between the ML and backend teams was never written down",
            "the data format upstream changed without notice",
            "alerts went to a channel nobody watched at night",
            "the rollback script had not been run since the last migration",
            "the test dataset no longer looked like production data",
        ],
        rng.randint(2, 4),
    )
    text = "Why it happened:\n\n" + "".join(f"- {cause}\n" for cause in causes)
    if rng.random() < 0.3:
        key = rng.choice(["bin_threshold", "score_scale", "batch_size", "timeout_s"])
        text += (
            f"\nThe setting as deployed:\n\n```yaml\n{key}: {rng.randint(1, 100)}\n"
            f"model: {rng.choice(SYSTEMS)}-v{rng.randint(1, 40)}\n```\n"
        )
    if rng.random() < 0.15:
        text += (
            "\n| check | expected | seen |\n|---|---|---|\n"
            f"| {rng.choice(METRICS)} | {rng.randint(80, 99)} | {rng.randint(20, 79)} |\n"
        )
    return text


def _detection(rng: random.Random) -> str:
    return (
        f"Found by {rng.choice(DETECTORS)} {rng.randint(1, 96)} {rng.choice(UNITS)} after it "
        f"started, when the {rng.choice(METRICS)} moved out of its usual range."
    )


def _response(rng: random.Random) -> str:
    steps = [
        "Paged the owning team.",
        f"Rolled `{rng.choice(SYSTEMS)}` back to the previous release.",
        "Told the affected clients what we knew and when we would know more.",
        f"Re-ran the {rng.randint(10, 2000)} affected studies.",
        "Compared the outputs with the reference set.",
        "Closed the incident after a day of normal metrics.",
    ]
    return "".join(f"{n}. {step}\n" for n, step in enumerate(rng.sample(steps, 4), 1))


def _went_well(rng: random.Random) -> str:
    points = rng.sample(
        [
            "The rollback took minutes.",
            "The client heard it from us first.",
            "Everyone knew who was in charge.",
            "Logs had everything we needed.",
            "The reference set showed the difference at once.",
        ],
        rng.randint(1, 3),
    )
    return "".join(f"- {point}\n" for point in points)


def _got_lucky(rng: random.Random) -> str:
    return (
        f"It happened on a {rng.choice(['Friday', 'holiday', 'quiet Monday'])}, when only "
        f"{rng.randint(2, 40)} studies came in; on a normal day it would have been hundreds."
    )


def _timeline(rng: random.Random) -> str:
    return rng.choice(
        [
            f"Deploy of `{rng.choice(SYSTEMS)}` v{rng.randint(1, 90)} started.",
            f"Alert on **{rng.choice(METRICS)}** fired.",
            f"{rng.choice(DETECTORS).capitalize()} raised it in the incident channel.",
            f"Rolled back to v{rng.randint(1, 90)}.",
            "Client informed by the account manager.",
            f"Re-processing of {rng.randint(10, 3000)} studies finished.",
        ]
    )


def _factor_note(rng: random.Random) -> str:
    return rng.choice(
        [
            f"The {rng.choice(SYSTEMS)} config mixed two meanings in one key.",
            "Nobody had run the slow tests for weeks.",
            f"The team had switched context {rng.randint(3, 9)} times that week.",
            "The format change upstream was announced in a mailing list nobody read.",
            "",
        ]
    )


def _lesson(rng: random.Random) -> str:
    return rng.choice(
        [
            "**Run every test on every change**; override only for a named critical fix.",
            "Name config keys so that each means one thing.",
            "Test end to end what the client receives, not what we send.",
            "Watch a release closely for a day, with a tool built for it.",
            "When internal and external metrics disagree wildly, find out why before acting.",
            f"Keep the reference set for `{rng.choice(SYSTEMS)}` current.",
        ]
    )


def _action_details(rng: random.Random) -> str:
    return (
        f"Owner to agree the scope with the {rng.choice(TEAMS)[0]} team first.\n\n"
        f"- [ ] write it\n- [ ] review it\n- [ ] turn it on for `{rng.choice(SYSTEMS)}`\n"
    )


def _guard_description(rng: random.Random) -> str:
    return (
        f"Fails when the {rng.choice(METRICS)} of `{rng.choice(SYSTEMS)}` moves more than "
        f"{rng.randint(1, 20)}% from its baseline. See the "
        f"[runbook](https://wiki.example.com/runbooks/{rng.randint(1, 400)})."
    )


RUSSIAN_SHARE = 0.3  # of the postmortems, written in Russian (titles, story, lesson)
RU_FAILURES = """
вернул неверные вероятности
молча терял исследования
не отвечал под нагрузкой
обслуживал устаревшую модель
дважды выставил счёт клиенту
потерял разметку
округлял оценки до целых
перепутал конфигурации двух клиентов
перестал отправлять оповещения
отправил отчёты не тому клиенту
""".strip().splitlines()
RU_TRIGGERS = """
изменения конфигурации
обновления зависимости
миграции схемы
подключения нового клиента
истечения сертификата
ручного переопределения
неудачного релиза
изменения порога
""".strip().splitlines()


def _what_happened_ru(rng: random.Random) -> str:
    return (
        f"После {rng.choice(RU_TRIGGERS)} сервис **{rng.choice(SYSTEMS)}** "
        f"{rng.choice(RU_FAILURES)} около {rng.randint(2, 72)} часов. Через затронутый путь "
        f"прошло {rng.randint(10, 5000)} исследований, пока не нашли причину: ошибка в "
        f"{rng.choice(['пороге бинаризации', 'контракте между командами', 'тестовых данных'])}.\n\n"
        "Медленные тесты "
        f"{rng.choice(['пропустили из-за исключения', 'не запускали', 'не видели ошибку'])}; "
        f"клиенты увидели {rng.choice(['неверные оценки', 'поздние отчёты', 'ошибки'])}."
    )


def _lesson_ru(rng: random.Random) -> str:
    return rng.choice(
        [
            "**Запускать все тесты при каждом изменении**; исключения только для срочных "
            "исправлений.",
            "Называть ключи конфигурации так, чтобы каждый значил одно.",
            "Проверять end-to-end то, что получает клиент.",
            "Следить за релизом весь день с помощью инструмента, созданного для этого "
            "(мониторинг).",
            "Когда внутренние и внешние метрики сильно расходятся, сначала выяснить почему.",
            "Не принимать больших решений в усталости.",
        ]
    )


TEXTS: dict[str, Callable[[random.Random], str]] = {
    "what_happened": _what_happened,
    "what_happened_ru": _what_happened_ru,
    "lesson_ru": _lesson_ru,
    "analysis": _analysis,
    "detection": _detection,
    "response": _response,
    "went_well": _went_well,
    "got_lucky": _got_lucky,
    "timeline": _timeline,
    "factor_note": _factor_note,
    "lesson": _lesson,
    "action": _action_details,
    "guard": _guard_description,
}
ACTION_TITLES = [
    "Add a result-unchanged test for {system}",
    "Alert on the score distribution of {system}",
    "Split the overloaded config key in {system}",
    "Write down the response contract of {system}",
    "Run the full suite before every {system} release",
    "Add a rollback runbook for {system}",
    "Check the upstream format before {system} ingests it",
]
METHOD_NOTES = [
    "Invoices of the affected month.",
    "Studies re-processed, from the job log.",
    "Estimate by the team lead; no record kept.",
    "Hours from the incident channel's timestamps.",
]
# The unit of each quantity kind and the largest likely value drawn (money: in cents).
IMPACT_UNITS = {
    ImpactKind.LOST_REVENUE: ("", 50_000_000),
    ImpactKind.DIRECT_COST: ("", 5_000_000),
    ImpactKind.ITEMS_PROCESSED_WRONGLY: ("studies", 5_000),
    ImpactKind.CUSTOMERS_AFFECTED: ("clients", 40),
    ImpactKind.TIME_UNDETECTED: ("hours", 200),
    ImpactKind.DOWNTIME: ("minutes", 600),
    ImpactKind.RELEASE_DELAY: ("days", 30),
    ImpactKind.ENGINEERING_EFFORT: ("person-days", 60),
}
REVIEW_TEXTS = {
    ReviewAction.SUBMITTED: ["Ready for review.", "Please review; the timeline is complete."],
    ReviewAction.PUBLISHED: ["Clear and blameless. Published.", "Good lessons; published."],
    ReviewAction.ARCHIVED: ["Superseded by a later postmortem.", "System retired."],
}
# Tables written per chunk, parents first.
TABLE_ORDER = [
    "incident",
    "incident_access",
    "timeline_event",
    "incident_factor",
    "impact_estimate",
    "lesson",
    "action_item",
    "action_item_guard",
    "incident_tag",
    "review_comment",
]
PART_TABLES = ["timeline_event", "incident_factor", "impact_estimate", "lesson", "action_item"]


# --- On PostgreSQL ---------------------------------------------------------------------

DEFAULT_ADMIN_URL = "postgresql+psycopg://postmortems:postmortems@127.0.0.1:5432/postmortems_test"
# Bump when the copy changes, so that copied databases are made again.
COPY_VERSION = 1


def postgresql_name(sqlite_path: str | os.PathLike[str]) -> str:
    """The PostgreSQL database a generated file is copied to: its size, and a digest of the
    file's name (which says what shaped it), length and time, and of the copy's version."""
    path = Path(sqlite_path)
    stat = path.stat()
    key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{COPY_VERSION}"
    return f"pm_bench_{_count_incidents(path)}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def to_postgresql(sqlite_path: str | os.PathLike[str], admin_url: str = DEFAULT_ADMIN_URL) -> str:
    """The generated database copied into a database of its own on the PostgreSQL server
    `admin_url` connects to (its role needs CREATEDB); return that database's URL.

    Made once per file, then reused: the copy goes into `<name>_partial`, renamed when its
    row counts match the file's, so an interrupted copy is never reused. Older copies of the
    same size are dropped. Serve a clone of it (`clone_database`) to keep it as it was made.
    """
    admin = make_url(admin_url)
    name = postgresql_name(sqlite_path)
    url = admin.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            existing = set(conn.scalars(text("SELECT datname FROM pg_database")))
        if name in existing:
            print(f"Reusing PostgreSQL database {name}")
            return url
        of_this_size = name.rsplit("_", 1)[0]  # pm_bench_<size>
        for old in sorted(existing):
            if re.fullmatch(rf"{of_this_size}_[0-9a-f]{{8}}(_partial)?", old):
                drop_database(engine, old)
        partial = f"{name}_partial"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{partial}"'))
        _copy_to_postgresql(
            Path(sqlite_path), admin.set(database=partial).render_as_string(hide_password=False)
        )
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
    finally:
        engine.dispose()
    return url


def clone_database(admin_url: str, template: str, name: str) -> str:
    """A new database `name` made as a file copy of `template` (statistics, visibility map and
    all); return its URL. Nobody may be connected to the template meanwhile."""
    admin = make_url(admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            # FILE_COPY copies the files; the default (WAL_LOG) would write them all to the WAL.
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
    finally:
        engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(admin: Engine, name: str) -> None:
    """DROP DATABASE, retried: autovacuum may hold a new database for a moment."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            time.sleep(0.1 * (attempt + 1))
    print(f"  warning: could not drop database {name}")


def _copy_to_postgresql(path: Path, url: str) -> None:
    """Migrate the empty database to head, COPY every table's rows in, and check the counts."""
    began = time.perf_counter()
    print(f"Copying {path.name} to PostgreSQL ({make_url(url).database})")
    command.upgrade(alembic_config(url), "head")
    source = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    target = create_engine(url)
    tables = Base.metadata.sorted_tables
    try:
        with source.connect() as src, target.connect() as dst:
            unknown = set(inspect(src).get_table_names()) - {t.name for t in tables}
            # SQLite's own full-text tables are not copied: PostgreSQL has its GIN index.
            unknown -= {n for n in unknown if n.startswith(search_schema.UNMODELLED_PREFIX)}
            if unknown - {"alembic_version"}:
                raise RuntimeError(f"tables the models do not know: {sorted(unknown)}")
            with dst.begin():
                # The migrations seed rows (the causes, data_version 1); the file's replace them.
                names = ", ".join(f'"{table.name}"' for table in tables)
                dst.execute(text(f"TRUNCATE {names}"))
                copied = {table.name: _copy_table(src, dst, table) for table in tables}
                _reset_sequences(dst, tables)
            for table in tables:
                there = dst.scalar(select(func.count()).select_from(table))
                if there != copied[table.name]:
                    raise RuntimeError(f"{table.name}: {copied[table.name]} rows read, {there} in")
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM as well: its visibility map lets index-only scans skip the table, as
            # they would on a database that had lived under autovacuum.
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        source.dispose()
        target.dispose()
    rows = sum(copied.values())
    print(f"  done: {rows:,} rows in {time.perf_counter() - began:,.0f} s")


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """COPY one table's rows from SQLite to PostgreSQL; return how many.

    The rows are read through the models' column types (Decimal from its text, aware UTC
    datetimes, enum members, bools) and written through the same types' PostgreSQL side.
    """
    dialect = dst.dialect
    bind = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.c]
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(table.name), psql.SQL(", ").join(psql.Identifier(c.name) for c in table.c)
    )
    raw = cast(psycopg.Connection[Any], dst.connection.dbapi_connection)
    result = src.execution_options(yield_per=CHUNK).execute(select(table))
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for rows in result.partitions():
            for row in rows:
                copy.write_row(
                    [v if p is None or v is None else p(v) for p, v in zip(bind, row, strict=True)]
                )
            count += len(rows)
    return count


def _reset_sequences(dst: Connection, tables: Sequence[Table]) -> None:
    """Point each integer key's sequence past the copied rows, so the app's inserts fit."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        dst.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'coalesce(max("{column}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column},
        )


def _count_incidents(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM incident").fetchone()[0])
    finally:
        db.close()


# --- What the benchmark opens ----------------------------------------------------------


def landmarks(path: str | os.PathLike[str]) -> Landmarks:
    """The pages' subjects in a generated database, found by plain SQL.

    The largest stage is counted the way the app defines it (the company's headcount on the
    day an incident started, UTC), independently of the app's own code.
    """
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (incidents,) = db.execute("SELECT count(*) FROM incident").fetchone()
        stages = db.execute(
            "SELECT id, name, min_headcount, max_headcount FROM growth_stage"
        ).fetchall()
        timeline = _Headcount(
            [
                (team_id, date.fromisoformat(on_date), headcount)
                for team_id, on_date, headcount in db.execute(
                    "SELECT team_id, on_date, headcount FROM headcount_snapshot"
                )
            ]
        )
        in_stage: Counter[int] = Counter()
        for (started,) in db.execute("SELECT started_at FROM incident"):
            total = timeline.total(date.fromisoformat(started[:10]))
            for stage_id, _name, low, high in stages:
                if low <= total and (high is None or total <= high):
                    in_stage[stage_id] += 1
        stage_id, stage_incidents = in_stage.most_common(1)[0]
        stage_name = next(name for sid, name, *_ in stages if sid == stage_id)
        guard_id, guard_name, guard_incidents = db.execute(
            """SELECT g.id, g.name, count(DISTINCT a.incident_id) AS n
               FROM guard_check g
               JOIN action_item_guard ag ON ag.guard_check_id = g.id
               JOIN action_item a ON a.id = ag.action_item_id
               GROUP BY g.id ORDER BY n DESC, g.id LIMIT 1"""
        ).fetchone()
        # A published postmortem anyone may read, with tags and a guard, from the middle.
        postmortem_id, postmortem_key = db.execute(
            """SELECT i.id, i.key FROM incident i
               WHERE i.status = 'PUBLISHED' AND NOT i.is_restricted AND i.id >= ?
                 AND EXISTS (SELECT 1 FROM incident_tag t WHERE t.incident_id = i.id)
                 AND EXISTS (SELECT 1 FROM action_item a
                             JOIN action_item_guard ag ON ag.action_item_id = a.id
                             WHERE a.incident_id = i.id)
               ORDER BY i.id LIMIT 1""",
            (incidents // 2,),
        ).fetchone()
    finally:
        db.close()
    return Landmarks(
        incidents=incidents,
        postmortem_id=postmortem_id,
        postmortem_key=postmortem_key,
        stage_id=stage_id,
        stage_name=stage_name,
        stage_incidents=stage_incidents,
        guard_id=guard_id,
        guard_name=guard_name,
        guard_incidents=guard_incidents,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("incidents", type=int, help="how many postmortems")
    parser.add_argument("-o", "--output", help="write here instead of the cache")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
        metavar="ADMIN_URL",
        help="copy it to a database of its own on this server (default: BENCH_DATABASE_URL)",
    )
    args = parser.parse_args()
    if args.output:
        Path(args.output).unlink(missing_ok=True)
        generate(args.output, incidents=args.incidents, seed=args.seed)
        path = Path(args.output)
    else:
        path = cached_database(args.incidents, args.seed)
    print(landmarks(path))
    if args.postgresql:
        print(make_url(to_postgresql(path, args.postgresql)))


if __name__ == "__main__":
    main()
