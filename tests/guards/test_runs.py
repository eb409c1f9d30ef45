"""Guard runs: recording them, and the state a guard is in because of them, computed in SQL
for every guard and in Python for one, checked against a recomputation from raw runs."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from models import GuardCheck, GuardRun, RunStatus
from postmortems.domain import DomainError, NotFoundError
from postmortems.guards.runs import (
    GuardState,
    derive_state,
    guard_facts,
    guard_states,
    record_run,
)
from tests.conftest import make_user
from tests.factories import make_guard, utc

NOW = utc(2026, 11, 20, 12)


def _run(guard_id: int, status: str = "pass", ran_at: datetime | None = None, **kw):
    values = {"url": None, "details": None, "reporter": None, **kw}
    return record_run(guard_id, status=status, ran_at=ran_at, now=NOW, **values)


def test_a_run_is_recorded_with_its_reporter(db) -> None:
    guard = make_guard()
    user = make_user()
    run = _run(
        guard.id,
        "PASS",
        utc(2026, 11, 20, 10),
        url="https://ci.example.com/job/1",
        details=" ok ",
        reporter=user,
    )
    db.commit()
    stored = db.get(GuardRun, run.id)
    assert (stored.status, stored.ran_at, stored.url, stored.details) == (
        RunStatus.PASS,
        utc(2026, 11, 20, 10),
        "https://ci.example.com/job/1",
        "ok",
    )
    assert stored.reported_by_id == user.id


def test_a_run_without_a_time_ran_now(db) -> None:
    guard = make_guard()
    assert _run(guard.id, "fail").ran_at == NOW


def test_a_run_time_with_an_offset_is_stored_in_utc(db) -> None:
    guard = make_guard()
    moscow = datetime(2026, 11, 20, 13, tzinfo=timezone(timedelta(hours=3)))
    assert _run(guard.id, ran_at=moscow).ran_at == utc(2026, 11, 20, 10)


def test_an_unknown_guard_is_not_found(db) -> None:
    with pytest.raises(NotFoundError) as caught:
        _run(123456)
    assert "guard_id" in caught.value.fields


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"status": "passed"}, "status"),
        ({"status": ""}, "status"),
        ({"ran_at": NOW + timedelta(minutes=6)}, "ran_at"),
        ({"ran_at": datetime(1969, 12, 31, 23, tzinfo=UTC)}, "ran_at"),
        ({"ran_at": datetime(2026, 11, 20, 10)}, "ran_at"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://example.com/a b"}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"details": "x" * 2001}, "details"),
        ({"details": "a\x00b"}, "details"),
    ],
)
def test_a_run_that_breaks_a_rule_is_refused_naming_the_field(db, values, field) -> None:
    guard = make_guard()
    args = {"status": "pass", "ran_at": None, **values}
    with pytest.raises(DomainError) as caught:
        _run(guard.id, args.pop("status"), args.pop("ran_at"), **args)
    assert list(caught.value.fields) == [field]
    assert db.scalars(select(GuardRun)).all() == []


def test_a_run_five_minutes_ahead_is_accepted(db) -> None:
    guard = make_guard()
    assert _run(guard.id, ran_at=NOW + timedelta(minutes=5)).ran_at == NOW + timedelta(minutes=5)


def test_states_of_the_four_kinds(db) -> None:
    healthy, failing, stale, never = (make_guard(n) for n in ("h", "f", "s", "n"))
    _run(healthy.id, "pass", NOW - timedelta(days=1))
    _run(failing.id, "pass", NOW - timedelta(days=1))
    _run(failing.id, "fail", NOW - timedelta(hours=1))
    _run(stale.id, "pass", NOW - timedelta(days=8))
    db.commit()
    states = guard_states(NOW)
    assert {g: states[g.id].state for g in (healthy, failing, stale, never)} == {
        healthy: GuardState.HEALTHY,
        failing: GuardState.FAILING,
        stale: GuardState.STALE,
        never: GuardState.NEVER_VERIFIED,
    }
    assert states[failing.id].last_pass_at == NOW - timedelta(days=1)
    assert states[failing.id].last_run_at == NOW - timedelta(hours=1)


def test_a_pass_exactly_at_the_window_edge_is_inside_it(db) -> None:
    guard = make_guard()
    _run(guard.id, "pass", NOW - timedelta(days=7))
    db.commit()
    assert guard_states(NOW)[guard.id].state is GuardState.HEALTHY
    assert guard_states(NOW + timedelta(seconds=1))[guard.id].state is GuardState.STALE


def test_runs_after_the_instant_asked_about_do_not_count(db) -> None:
    guard = make_guard()
    _run(guard.id, "fail", NOW - timedelta(days=1))
    db.commit()
    assert guard_states(NOW - timedelta(days=2))[guard.id].state is GuardState.NEVER_VERIFIED


# Generated runs: the SQL query for every guard, the Python function for one guard and a
# recomputation from the raw runs agree. Offsets in seconds around the window's edges.
EDGES = [0, 1, 86400 * 3, 86400 * 3 - 1, 86400 * 3 + 1, 86400 * 7, 86400 * 7 + 1]
offsets = st.one_of(st.sampled_from(EDGES), st.integers(-300, 86400 * 12))
runs = st.lists(st.tuples(st.sampled_from(["pass", "fail"]), offsets), max_size=6)
guards = st.lists(st.tuples(st.integers(1, 10), runs), min_size=1, max_size=5)


def reference_state(raw: list[tuple[str, int, int]], window_days: int, as_of: datetime):
    """From raw runs (status, ran_at, id): the definition in runs.py, written out again."""
    seen = sorted((r for r in raw if r[1] <= as_of), key=lambda r: (r[1], r[2]))
    if not seen:
        return GuardState.NEVER_VERIFIED
    if seen[-1][0] == "FAIL":
        return GuardState.FAILING
    passes = [r[1] for r in seen if r[0] == "PASS"]
    if passes and as_of - timedelta(days=window_days) <= max(passes):
        return GuardState.HEALTHY
    return GuardState.STALE


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=guards)
def test_sql_and_python_states_agree_with_the_raw_runs(db, specs) -> None:
    db.execute(delete(GuardCheck))
    made = []
    for n, (window, guard_runs) in enumerate(specs):
        guard = make_guard(f"guard {n}")
        guard.freshness_days = window
        for status, offset in guard_runs:
            # Later runs first, so that ties on ran_at are broken by id, not by order.
            _run(guard.id, status, NOW - timedelta(seconds=offset))
        made.append(guard)
    db.commit()
    for as_of in (NOW, NOW - timedelta(days=3), NOW + timedelta(days=1, microseconds=500)):
        states = guard_states(as_of)
        for guard in made:
            raw = [
                (r.status.name, r.ran_at, r.id)
                for r in db.scalars(select(GuardRun).where(GuardRun.guard_check_id == guard.id))
            ]
            whole = as_of.replace(microsecond=0)  # states are asked at whole seconds, up
            whole += timedelta(seconds=1) if whole != as_of else timedelta(0)
            expected = reference_state(raw, guard.freshness_days, whole)
            assert states[guard.id].state is expected, (guard.freshness_days, raw, as_of)
            assert guard_facts(guard, as_of) == states[guard.id]


def test_derive_state_needs_no_database() -> None:
    assert derive_state(None, None, 7, NOW) is GuardState.NEVER_VERIFIED
    assert derive_state(RunStatus.FAIL, NOW, 7, NOW) is GuardState.FAILING
    assert derive_state(RunStatus.PASS, NOW - timedelta(days=7), 7, NOW) is GuardState.HEALTHY
    assert derive_state(RunStatus.PASS, NOW - timedelta(days=8), 7, NOW) is GuardState.STALE


def test_kept_states_change_when_a_window_ends_or_a_run_ahead_comes_due(db) -> None:
    from postmortems.guards.runs import current_guard_states

    stale_soon, ahead = make_guard("Stale soon"), make_guard("Ahead")
    _run(stale_soon.id, "pass", NOW - timedelta(days=7) + timedelta(seconds=10))
    _run(ahead.id, "fail", NOW + timedelta(minutes=3))
    db.commit()
    moments = [
        NOW,
        NOW + timedelta(seconds=5),
        NOW + timedelta(seconds=10),  # the last instant inside the window
        NOW + timedelta(seconds=11),
        NOW + timedelta(minutes=3) - timedelta(seconds=1),
        NOW + timedelta(minutes=3),  # the run reported ahead counts from here
        NOW + timedelta(days=1),
    ]
    for moment in moments:
        assert current_guard_states(moment) == guard_states(moment), moment
    assert current_guard_states(NOW + timedelta(seconds=10))[stale_soon.id].state.name == "HEALTHY"
    assert current_guard_states(NOW + timedelta(seconds=11))[stale_soon.id].state.name == "STALE"
    assert current_guard_states(NOW)[ahead.id].state.name == "NEVER_VERIFIED"
    assert current_guard_states(NOW + timedelta(minutes=3))[ahead.id].state.name == "FAILING"


def test_a_run_reported_a_moment_ago_counts_at_once(db) -> None:
    guard = make_guard()
    run = _run(guard.id, "fail", NOW + timedelta(microseconds=400_000))
    db.commit()
    assert guard_states(run.ran_at)[guard.id].state is GuardState.FAILING
    assert guard_facts(guard, run.ran_at).state is GuardState.FAILING
