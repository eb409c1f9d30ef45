"""What is at risk because a guard fails or went stale, how well each guard has done, and the
guard figures the trend and quarterly reports show."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select

from models import (
    ActionItem,
    ActionStatus,
    GuardCheck,
    GuardRun,
    GuardStatus,
    Incident,
    RunStatus,
    User,
)
from models.incident import action_item_guard
from postmortems.cache import cached
from postmortems.db import session
from postmortems.guards.escapes import EscapeCount, escape_counts, escaped_in_period
from postmortems.guards.health import GuardHealthRow, guard_rows
from postmortems.guards.runs import (
    GuardState,
    current_guard_states,
    facts_query,
    guard_states,
    instant,
)
from postmortems.guards.service import count_protected, linked_action_items, protected_incidents
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS
from postmortems.pagination import Page, paginate_list
from postmortems.timezones import start_of_local_day

AT_RISK_STATES = (GuardState.FAILING, GuardState.STALE)
SHOWN_PER_GUARD = 10  # postmortems listed under each guard on the at-risk page
GUARDS_PER_PAGE = 10
PASS_RATE_DAYS = 90


def at_risk_action_items(incident_id: int, as_of: datetime) -> frozenset[int]:
    """Ids of the incident's done action items that rely on a guard (not retired) that is
    failing or stale at `as_of`. Both halves are kept: the incident's few links until the data
    changes, every guard's state until the data changes or time reaches an instant where a
    state may change (`current_guard_states`), so the postmortem page asks nothing of them."""

    def links() -> tuple[tuple[int, int], ...]:
        return tuple(
            (item_id, guard_id)
            for item_id, guard_id in session.execute(
                select(action_item_guard.c.action_item_id, action_item_guard.c.guard_check_id)
                .join(ActionItem, ActionItem.id == action_item_guard.c.action_item_id)
                .join(GuardCheck, GuardCheck.id == action_item_guard.c.guard_check_id)
                .where(
                    ActionItem.incident_id == incident_id,
                    ActionItem.status == ActionStatus.DONE,
                    GuardCheck.status != GuardStatus.RETIRED,
                )
            )
        )

    # Ids only, of an incident the caller already let the viewer read: the same for everyone.
    kept = cached(("at_risk_links", incident_id), links, viewer=None)
    if not kept:
        return frozenset()
    states = current_guard_states(as_of)
    return frozenset(
        item_id
        for item_id, guard_id in kept
        if guard_id in states and states[guard_id].state.at_risk
    )


@dataclass(frozen=True)
class ProtectedItem:
    incident: Incident
    item: ActionItem

    @property
    def at_risk(self) -> bool:
        """A done action item whose guard fails or is stale: believed closed, not kept."""
        return self.item.status is ActionStatus.DONE


@dataclass(frozen=True)
class AtRiskGuard:
    guard: GuardHealthRow
    protects: int  # postmortems the viewer may see that rely on it
    items: list[ProtectedItem]  # of the newest SHOWN_PER_GUARD of them


def at_risk_guards(as_of: datetime, viewer: User, number: int = 1) -> Page:
    """Failing and stale guards (retired ones left out), GUARDS_PER_PAGE to a page, each with
    the newest postmortems `viewer` may see that rely on it and their action items that link
    to it: one query for the guards, then the guard page's own two for each guard shown.
    The page's items are AtRiskGuards; its total counts the failing and stale guards."""
    page = paginate_list(guard_rows(as_of, AT_RISK_STATES), number, GUARDS_PER_PAGE)
    shown: list[GuardHealthRow] = page.items
    guards = {
        g.id: g
        for g in session.scalars(select(GuardCheck).where(GuardCheck.id.in_([r.id for r in shown])))
    }
    result = []
    for row in shown:
        guard = guards[row.id]
        total = count_protected(guard, viewer)
        incidents = list(
            session.scalars(
                protected_incidents(guard, viewer, many=total >= ORDER_INDEX_FROM_ROWS).limit(
                    SHOWN_PER_GUARD
                )
            )
        )
        linked = linked_action_items(guard, [i.id for i in incidents])
        items = [ProtectedItem(incident=i, item=item) for i in incidents for item in linked[i.id]]
        result.append(AtRiskGuard(guard=row, protects=total, items=items))
    return replace(page, items=result)


# Effectiveness.


@dataclass(frozen=True)
class Effectiveness:
    guard_id: int
    name: str
    status: GuardStatus
    state: GuardState
    protects: int  # postmortems whose action items rely on it, whoever may read them
    escaped: EscapeCount  # recurrences that got past it: those the viewer sees, and not
    last_pass_at: datetime | None
    runs: int  # in the last PASS_RATE_DAYS days
    passes: int

    @property
    def pass_rate(self) -> Decimal | None:
        """Passes ÷ runs over the last PASS_RATE_DAYS days, exact; None without runs."""
        return None if not self.runs else Decimal(self.passes) / Decimal(self.runs)

    @property
    def pass_percent(self) -> Decimal | None:
        """The pass rate in percent, rounded half-even to 0.1 for the page."""
        rate = self.pass_rate
        return None if rate is None else (rate * 100).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def protected_counts() -> dict[int, int]:
    """Postmortems each guard protects (distinct incidents with an action item linked to it),
    for every guard with any: one GROUP BY, kept until the data changes."""

    def count() -> dict[int, int]:
        guard_id = action_item_guard.c.guard_check_id
        stmt = (
            select(guard_id, func.count(ActionItem.incident_id.distinct()))
            .join(ActionItem, ActionItem.id == action_item_guard.c.action_item_id)
            .group_by(guard_id)
        )
        return {gid: n for gid, n in session.execute(stmt)}

    return cached(("guard_protected_counts",), count, viewer=None)


def run_counts(start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """(runs, passes) per guard from `start` to `end`, both included: per guard, two ranges
    of the (guard, status, ran_at) index, so only the runs in the span are read."""

    def counted(status: RunStatus) -> Any:
        return (
            select(func.count())
            .where(
                GuardRun.guard_check_id == GuardCheck.id,
                GuardRun.status == status,
                GuardRun.ran_at >= start,
                GuardRun.ran_at <= end,
            )
            .correlate(GuardCheck)
            .scalar_subquery()
        )

    stmt = select(GuardCheck.id, counted(RunStatus.PASS), counted(RunStatus.FAIL))
    return {
        gid: (passes + fails, passes)
        for gid, passes, fails in session.execute(stmt)
        if passes + fails
    }


def effectiveness(as_of: datetime, viewer: User | None = None) -> list[Effectiveness]:
    """Per guard, by name: postmortems protected, recurrences escaped (as the guard's page
    lists them for `viewer`, and how many more are hidden from them; None: all), state and
    last pass at `as_of`, and its pass rate over the PASS_RATE_DAYS days before. Five
    queries, whatever the number of guards, postmortems and runs."""
    as_of = instant(as_of)
    guards = session.execute(
        select(GuardCheck.id, GuardCheck.name, GuardCheck.status).order_by(GuardCheck.name)
    ).all()
    facts = guard_states(as_of)
    protects = protected_counts()
    escaped = escape_counts(viewer)
    runs = run_counts(as_of - timedelta(days=PASS_RATE_DAYS), as_of)
    result = []
    for gid, name, status in guards:
        fact = facts.get(gid)
        run, passes = runs.get(gid, (0, 0))
        result.append(
            Effectiveness(
                guard_id=gid,
                name=name,
                status=status,
                state=fact.state if fact else GuardState.NEVER_VERIFIED,
                protects=protects.get(gid, 0),
                escaped=escaped.get(gid, EscapeCount()),
                last_pass_at=fact.last_pass_at if fact else None,
                runs=run,
                passes=passes,
            )
        )
    return result


# Report figures.


@dataclass(frozen=True)
class GuardReportFigures:
    """Guard health at `as_of` (guards added by then, retired ones left out) and the guards
    that recurrences starting from `start` to `end` got past."""

    start: date
    end: date
    as_of: datetime
    states: dict[GuardState, int]
    failing: list[str]
    stale: list[str]
    escaped: list[tuple[int, str, int]]  # (guard id, name, recurrences)

    @property
    def escapes(self) -> int:
        return sum(n for _, _, n in self.escaped)


def health_counts(as_of: datetime) -> tuple[dict[GuardState, int], list[str], list[str]]:
    """How many guards (added by `as_of`, not retired) were in each state at `as_of`, and the
    names of the failing and stale ones."""
    facts = facts_query(as_of).subquery()
    stmt = (
        select(GuardCheck.name, facts.c.state)
        .join(facts, facts.c.guard_id == GuardCheck.id)
        .where(GuardCheck.status != GuardStatus.RETIRED, GuardCheck.created_at <= instant(as_of))
        .order_by(GuardCheck.name)
    )
    counts = dict.fromkeys(GuardState, 0)
    names: dict[GuardState, list[str]] = {s: [] for s in GuardState}
    for name, state in session.execute(stmt):
        counts[GuardState[state]] += 1
        names[GuardState[state]].append(name)
    return counts, names[GuardState.FAILING], names[GuardState.STALE]


def guard_report(start: date, end: date, now: datetime) -> GuardReportFigures:
    """The figures for a report over the local days `start` to `end`: health at the end of
    the last day (or now, if that is still to come), escapes of recurrences in the range."""
    as_of = min(instant(now), start_of_local_day(end + timedelta(days=1)) - timedelta(seconds=1))
    states, failing, stale = health_counts(as_of)
    return GuardReportFigures(
        start=start,
        end=end,
        as_of=as_of,
        states=states,
        failing=failing,
        stale=stale,
        escaped=escaped_in_period(start, end),
    )


def report_figures_for_template(start: Any, end: Any) -> GuardReportFigures:
    """The report templates' entry point (a Jinja global): kept until the data changes, per
    range and minute."""
    from datetime import UTC

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return cached(
        ("guard_report", start, end, now), lambda: guard_report(start, end, now), viewer=None
    )
