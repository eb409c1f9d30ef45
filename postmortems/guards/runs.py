"""Guard runs: recording a verification run, and the state each guard is in because of them.

A guard's state at an instant `as_of` comes from its runs up to that instant:

- never verified: it has no run;
- failing: its last run (the latest `ran_at`, then the last recorded) failed;
- stale: its last run passed, but no run passed inside its freshness window
  (`as_of - freshness_days` up to `as_of`, both ends included);
- healthy: otherwise.

`derive_state` says it for one guard in Python; `guard_states` says it for every guard in one
SQL query. Tests check both against each other and against a recomputation from raw runs.
"""

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, DateTime, Select, Text, case, cast, func, literal, select

from models import GuardCheck, GuardRun, RunStatus, User
from models.base import EARLIEST, LabelledEnum
from postmortems.db import session
from postmortems.domain import NotFoundError, Problems
from postmortems.guards.service import GuardError
from postmortems.pagination import Keyset

# A run may be reported a little ahead of the server's clock (clocks drift), not more.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_URL_LENGTH = 2000
MAX_DETAILS_LENGTH = 2000


class GuardState(LabelledEnum):
    HEALTHY = "HEALTHY"
    FAILING = "FAILING"
    STALE = "STALE"
    NEVER_VERIFIED = "NEVER_VERIFIED"

    _labels = enum.nonmember(
        {
            "HEALTHY": "Healthy",
            "FAILING": "Failing",
            "STALE": "Stale",
            "NEVER_VERIFIED": "Never verified",
        }
    )

    @property
    def at_risk(self) -> bool:
        """Whether what the guard protects is at risk: it fails, or nobody saw it pass lately."""
        return self in (GuardState.FAILING, GuardState.STALE)


@dataclass(frozen=True)
class GuardFacts:
    """What a guard's runs up to `as_of` say about it."""

    guard_id: int
    state: GuardState
    last_run_at: datetime | None
    last_run_status: RunStatus | None
    last_pass_at: datetime | None


def instant(as_of: datetime) -> datetime:
    """`as_of` in UTC, rounded up to the whole second: the instant states are computed at
    (SQLite's date arithmetic keeps milliseconds; whole seconds keep both databases exact,
    and rounding up counts a run reported earlier in the same second)."""
    as_of = as_of.astimezone(UTC)
    whole = as_of.replace(microsecond=0)
    return whole if whole == as_of else whole + timedelta(seconds=1)


def derive_state(
    last_run_status: RunStatus | None,
    last_pass_at: datetime | None,
    freshness_days: int,
    as_of: datetime,
) -> GuardState:
    """The state of one guard from its last run and last pass up to `as_of`."""
    if last_run_status is None:
        return GuardState.NEVER_VERIFIED
    if last_run_status is RunStatus.FAIL:
        return GuardState.FAILING
    if last_pass_at is None or last_pass_at < instant(as_of) - timedelta(days=freshness_days):
        return GuardState.STALE
    return GuardState.HEALTHY


def guard_facts(guard: GuardCheck, as_of: datetime) -> GuardFacts:
    """One guard's state at `as_of` (see `facts_of`)."""
    return facts_of([guard.id], as_of)[guard.id]


def facts_of(guard_ids: list[int], as_of: datetime) -> dict[int, GuardFacts]:
    """The state at `as_of` of a few guards, by id, derived in Python (`derive_state`) from
    their last run and last pass: one small query, probing each guard's run indexes."""
    as_of = instant(as_of)
    mine = GuardRun.guard_check_id == GuardCheck.id

    def last(column: Any, *where: ColumnElement[bool]) -> Any:
        return (
            select(column)
            .where(mine, GuardRun.ran_at <= as_of, *where)
            .order_by(GuardRun.ran_at.desc(), GuardRun.id.desc())
            .limit(1)
            .correlate(GuardCheck)
            .scalar_subquery()
        )

    stmt = select(
        GuardCheck.id,
        GuardCheck.freshness_days,
        last(GuardRun.status),
        last(GuardRun.ran_at),
        last(GuardRun.ran_at, GuardRun.status == RunStatus.PASS),
    ).where(GuardCheck.id.in_(guard_ids))
    result = {}
    for guard_id, days, status, ran_at, last_pass_at in session.execute(stmt):
        # A scalar subquery's value comes back as the database has it: make it a member.
        status = RunStatus[status] if isinstance(status, str) else status
        result[guard_id] = GuardFacts(
            guard_id=guard_id,
            state=derive_state(status, last_pass_at, days, as_of),
            last_run_at=ran_at,
            last_run_status=status,
            last_pass_at=last_pass_at,
        )
    return result


def facts_query(as_of: datetime) -> Select[Any]:
    """A select() of every guard's id, state name, last run (time, status) and last pass at
    `as_of`: one query, each guard read through its run indexes (a few index probes per
    guard, whatever its number of runs). Join it, or wrap it, to filter guards by state in
    SQL: the lists' way, where `facts_of` is one guard's."""
    as_of = instant(as_of)
    mine = GuardRun.guard_check_id == GuardCheck.id
    last_run = (
        select(GuardRun.id)
        .where(mine, GuardRun.ran_at <= as_of)
        .order_by(GuardRun.ran_at.desc(), GuardRun.id.desc())
        .limit(1)
        .correlate(GuardCheck)
        .scalar_subquery()
    )
    last_pass = (
        select(GuardRun.ran_at)
        .where(mine, GuardRun.status == RunStatus.PASS, GuardRun.ran_at <= as_of)
        .order_by(GuardRun.ran_at.desc())
        .limit(1)
        .correlate(GuardCheck)
        .scalar_subquery()
    )
    facts = select(
        GuardCheck.id.label("guard_id"),
        GuardCheck.freshness_days.label("freshness_days"),
        last_run.label("last_run_id"),
        last_pass.label("last_pass_at"),
    )
    # Materialised: each guard's probes run once, not once per use in the query below.
    inner = facts.cte("guard_facts").prefix_with("MATERIALIZED")
    last = select(GuardRun).subquery("last_run")
    state = case(
        (inner.c.last_run_id.is_(None), literal(GuardState.NEVER_VERIFIED.name)),
        (last.c.status == RunStatus.FAIL, literal(GuardState.FAILING.name)),
        (
            inner.c.last_pass_at >= _window_start(as_of, inner.c.freshness_days),
            literal(GuardState.HEALTHY.name),
        ),
        else_=literal(GuardState.STALE.name),
    )
    return select(
        inner.c.guard_id,
        inner.c.freshness_days,
        state.label("state"),
        last.c.ran_at.label("last_run_at"),
        last.c.status.label("last_run_status"),
        inner.c.last_pass_at,
    ).outerjoin(last, last.c.id == inner.c.last_run_id)


def _window_start(as_of: datetime, days: ColumnElement[int]) -> ColumnElement[Any]:
    """`as_of` minus `days` whole days, in SQL, exactly, as each database stores datetimes."""
    naive = as_of.replace(tzinfo=None)
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal(naive), DateTime()) - func.make_interval(0, 0, 0, days)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text; this gives the same text to the
    # millisecond ("…SS.000", as_of being whole seconds), which compares the same way.
    shift = literal("-").concat(cast(days, Text)).concat(" days")
    return func.strftime("%Y-%m-%d %H:%M:%f", naive.isoformat(sep=" "), shift)


def guard_states(as_of: datetime) -> dict[int, GuardFacts]:
    """Every guard's state at `as_of`, by guard id, from one query."""
    return {
        row.guard_id: GuardFacts(
            guard_id=row.guard_id,
            state=GuardState[row.state],
            last_run_at=row.last_run_at,
            last_run_status=row.last_run_status,
            last_pass_at=row.last_pass_at,
        )
        for row in session.execute(facts_query(as_of))
    }


RUNS_NEWEST_FIRST = Keyset(GuardRun.ran_at, GuardRun.id)


def list_runs(guard: GuardCheck) -> Select[GuardRun]:
    """A select() of the guard's runs, newest first (ready to paginate)."""
    return (
        select(GuardRun)
        .where(GuardRun.guard_check_id == guard.id)
        .order_by(*RUNS_NEWEST_FIRST.newest_first())
    )


# Writes.


def record_run(
    guard_id: int,
    *,
    status: str | RunStatus,
    ran_at: datetime | None,
    url: str | None,
    details: str | None,
    reporter: User | None,
    now: datetime | None = None,
) -> GuardRun:
    """Record one run of a guard check. `ran_at` None means now; `status` is "pass" or
    "fail" (any case). Raises NotFoundError for an unknown guard, GuardError naming the fields
    that break a rule."""
    guard = session.get(GuardCheck, guard_id)
    if guard is None:
        raise NotFoundError("No such guard check.", {"guard_id": ["No such guard check."]})
    now = now or datetime.now(UTC)
    problems = Problems()
    run_status = _status(status, problems)
    when = _ran_at(ran_at, now, problems)
    link = _url(url, problems)
    text = (details or "").strip()
    problems.check_length("details", text, MAX_DETAILS_LENGTH)
    if "\x00" in text:
        problems.add("details", "Remove the NUL characters.")
    problems.raise_if_any(GuardError)
    assert run_status is not None and when is not None
    run = GuardRun(
        guard_check_id=guard.id,
        status=run_status,
        ran_at=when,
        url=link,
        details=text,
        reported_by_id=reporter.id if reporter is not None else None,
    )
    session.add(run)
    session.flush()
    return run


def _status(value: str | RunStatus, problems: Problems) -> RunStatus | None:
    if isinstance(value, RunStatus):
        return value
    name = str(value or "").strip().upper()
    if name not in RunStatus.__members__:
        problems.add("status", "Give pass or fail.")
        return None
    return RunStatus[name]


def _ran_at(value: datetime | None, now: datetime, problems: Problems) -> datetime | None:
    if value is None:
        return now
    if value.tzinfo is None or value.utcoffset() is None:
        problems.add("ran_at", "Give the time with its zone (2026-11-20T10:00:00Z).")
        return None
    if value < EARLIEST:
        problems.add("ran_at", "Cannot be before 1970.")
        return None
    if value > now + FUTURE_TOLERANCE:
        problems.add("ran_at", "Cannot be in the future (more than 5 minutes from now).")
        return None
    return value.astimezone(UTC)


def _url(value: str | None, problems: Problems) -> str | None:
    link = (value or "").strip()
    if not link:
        return None
    if len(link) > MAX_URL_LENGTH:
        problems.add("url", f"At most {MAX_URL_LENGTH} characters.")
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in link)
    ):
        problems.add("url", "Give an http:// or https:// address.")
        return None
    return link


# States now, kept while nothing changes them.


def _breakpoints(now: datetime) -> tuple[datetime, ...]:
    """The instants after `now` at which some guard's state may change without any new
    data: a healthy guard goes stale just after its last pass + its window; a run reported
    ahead of `now` counts from its time (and its window from there). Sorted."""
    points: set[datetime] = set()
    for row in session.execute(facts_query(now)):
        if row.last_pass_at is not None:
            points.add(row.last_pass_at + timedelta(days=row.freshness_days))
    ahead = session.execute(
        select(GuardRun.ran_at, GuardCheck.freshness_days)
        .join(GuardCheck, GuardCheck.id == GuardRun.guard_check_id)
        .where(GuardRun.ran_at > instant(now))
    )
    for ran_at, days in ahead:
        points.update((ran_at, ran_at + timedelta(days=days)))
    return tuple(sorted(p for p in points if p >= instant(now)))


def current_guard_states(now: datetime) -> dict[int, GuardFacts]:
    """Every guard's state at `now`, as `guard_states`, kept until the data changes or time
    reaches an instant where a state may change (`_breakpoints`): pages read it at no cost
    between those moments."""
    from bisect import bisect_left

    from postmortems.cache import cached

    now = instant(now)
    since, points = cached(
        ("guard_state_breakpoints",), lambda: (now, _breakpoints(now)), viewer=None
    )
    if now < since:  # a clock behind the one that found the breakpoints: nothing to reuse
        return guard_states(now)
    segment = bisect_left(points, now)
    exact = now if segment < len(points) and points[segment] == now else None
    return cached(("guard_states", segment, exact), lambda: guard_states(now), viewer=None)
