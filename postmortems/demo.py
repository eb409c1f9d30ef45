"""Demo data: the three postmortems of the founding story (DESIGN.md), retold in our words.

The data lives as files in our own export format under `postmortems/demo_data/` (postmortems
as Markdown with YAML front matter; teams and headcount, growth stages and guard checks as
YAML) and is loaded by the importer, through the same services as every form. The story gives
months, rough durations and a few figures, never hours: every time is marked as an estimate,
and whatever the story does not say is either left out or marked as illustrative.

To add to the demo, add files in that format (write them with `flask export` from a database
that holds what you want, then remove users.yaml and the created/updated times).

Two things are added by code after the files: guard runs, which are dated relative to the
moment the demo is loaded (so that its guards show each state), and the onboarding reading
path over the founding postmortems (kept in code here; the export format now carries
reading paths too, so it could move to `demo_data/reading_paths.yaml`).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from models import GuardCheck, GuardRun, Incident, ReadingPath
from postmortems.db import session
from postmortems.domain import DomainError
from postmortems.guards.runs import record_run
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.transfer.import_files import import_files

DEMO_DATA = Path(__file__).parent / "demo_data"


def demo_files() -> dict[str, str]:
    """The demo's files, by their path relative to the demo folder."""
    return {
        path.relative_to(DEMO_DATA).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(DEMO_DATA.rglob("*"))
        if path.is_file() and path.suffix in (".md", ".yaml")
    }


def load_demo_data() -> int:
    """Add whatever part of the demo data is missing; return how many postmortems were added.

    Each file is imported as its own transaction; what exists already (a team, a guard, a
    postmortem with the same key) is left as it is, edits included, so a second run adds
    nothing and changes nothing.
    """
    summary = import_files(demo_files(), update=False)
    if summary.failed:
        where, why = summary.failed[0]
        raise DomainError(f"{where}: {why}")
    _add_guard_runs()
    _add_reading_path()
    return summary.postmortems


# Runs of some demo guards, so that the guard pages show each state: (status, days ago), the
# newest last; relative to when the demo is loaded, so a demo left for a week goes stale.
GUARD_RUNS: dict[str, list[tuple[str, float]]] = {
    "Full test pipeline on every merge": [("pass", d + 0.2) for d in range(13, -1, -1)],
    "End-to-end test of the client response": [("pass", 15), ("pass", 8), ("pass", 1)],
    # Passed for a while, then started failing: a failing guard.
    "Predictions unchanged on the reference studies": [
        ("pass", 6),
        ("pass", 4),
        ("pass", 2),
        ("fail", 1),
        ("fail", 0.1),
    ],
    # Nobody has looked at it for three weeks: a stale guard.
    "Prediction distribution monitor": [("pass", 35), ("fail", 28), ("pass", 21)],
}
GUARD_RUN_URL = "https://ci.example.com/guards/{slug}/{number}"


def _add_guard_runs() -> None:
    """Runs for the demo guards that have none yet, through the same service as the CLI."""
    guards = {guard.name: guard.id for guard in session.scalars(select(GuardCheck))}
    with_runs = set(session.scalars(select(GuardRun.guard_check_id).distinct()))
    now = datetime.now(UTC)
    for name, runs in GUARD_RUNS.items():
        guard_id = guards.get(name)
        if guard_id is None or guard_id in with_runs:
            continue
        slug = name.lower().split(":")[0].replace(" ", "-")[:40]
        for number, (status, days_ago) in enumerate(runs, start=1):
            record_run(
                guard_id,
                status=status,
                ran_at=now - timedelta(days=days_ago),
                url=GUARD_RUN_URL.format(slug=slug, number=number),
                details="Demo run." if status == "pass" else "Demo run: failed.",
                reporter=None,
                now=now,
            )


PATH_TITLE = "Start here: the founding story"
PATH_DESCRIPTION = (
    "The three postmortems that shaped how we work, and why this product exists. Each is "
    "about a number that was silently wrong. Read them in order in your first week."
)
# The founding postmortems by key, each with why a newcomer should read it.
PATH_NOTES = [
    (
        "PM-2020-001",
        "Why we run every test on every change: one config key meant two things, and the "
        "hour-long test pipeline was skipped by an override. Read how the engineer who made "
        "the change noticed it himself, and why we told the client at once.",
    ),
    (
        "PM-2020-002",
        "A probability rounded to an integer between two teams. Our own calibration caught it "
        "before release. Read it for why the ML and backend teams keep a written contract and "
        "test end to end what the client receives.",
    ),
    (
        "PM-2022-001",
        "The fault sat outside the company, and it took months to see it. Read it for why we "
        "trust a sound internal validation when internal and external metrics diverge, and "
        "reproduce an external evaluation before changing the model.",
    ),
]


def _add_reading_path() -> None:
    """The onboarding path over the founding postmortems, unless a path of that title exists."""
    if session.scalar(select(ReadingPath.id).where(ReadingPath.title == PATH_TITLE)):
        return
    path = create_path(PathValues(PATH_TITLE, PATH_DESCRIPTION, for_new_users=True), by=None)
    for key, note in PATH_NOTES:
        if session.scalar(select(Incident.id).where(Incident.key == key)) is not None:
            add_item(path, key, note, curator=None)  # unless someone deleted it
