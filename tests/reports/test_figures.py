"""Every report figure recomputed independently from the raw rows, for generated data.

The reference computations here read incidents as ORM rows and work day by day in Python
(zoneinfo, `statistics.quantiles`), a different route from the service's grouped SQL over date
ranges; both must give the same figures exactly.
"""

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    ImpactEstimate,
    ImpactKind,
    Incident,
    IncidentFactor,
    IncidentStatus,
    LessonGroup,
    Role,
    Severity,
)
from postmortems.reports.figures import ReportFilters
from postmortems.reports.periods import Quarter
from postmortems.reports.piece_store import group_figures
from postmortems.reports.service import quarterly_report, trend_report
from tests.conftest import make_user
from tests.factories import make_stage, make_team


def seconds(delta: timedelta) -> Decimal:
    """A duration in seconds, exactly (microseconds included)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


ZONES = ["UTC", "Asia/Tokyo", "America/Los_Angeles"]
FIRST, LAST = date(2020, 1, 1), date(2021, 12, 31)
AS_OF = date(2021, 6, 1)
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(params=ZONES)
def app_config(request: pytest.FixtureRequest, database_url: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "TIMEZONE": request.param,
    }


def local_boundary_instants(zone: str) -> list[datetime]:
    """Instants just either side of local quarter boundaries: 23:59:59 on 31 March is Q1."""
    tz = ZoneInfo(zone)
    instants = []
    for year in (2020, 2021):
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            last = datetime(year, month, day, 23, 59, 59, tzinfo=tz)
            instants += [last.astimezone(UTC), (last + timedelta(seconds=1)).astimezone(UTC)]
    return instants


durations = st.one_of(st.none(), st.integers(min_value=0, max_value=40 * 86400))
money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
incident_specs = st.fixed_dictionaries(
    {
        "start": st.one_of(
            st.integers(min_value=0, max_value=15),  # an index into the boundary instants
            st.datetimes(min_value=datetime(2019, 12, 1), max_value=datetime(2022, 1, 31)).map(
                lambda d: d.replace(microsecond=0, tzinfo=UTC)
            ),
        ),
        "detect": durations,
        "mitigate": durations,
        "resolve": durations,
        "near_miss": st.booleans(),
        "excluded": st.booleans(),
        "restricted": st.booleans(),
        "status": st.sampled_from(list(IncidentStatus)),
        "severity": st.sampled_from(list(Severity)),
        "team": st.integers(min_value=0, max_value=1),
        "factors": st.lists(st.integers(min_value=0, max_value=4), max_size=3, unique=True),
        "impacts": st.lists(
            st.tuples(
                st.sampled_from(["EUR", "RUB", "USD"]),
                money,
                money,
                money,
                st.sampled_from(["full", "no low", "no high", "likely only"]),
            ),
            max_size=3,
        ),
        "actions": st.lists(
            st.tuples(
                st.sampled_from(list(ActionStatus)),
                st.sampled_from(list(ActionType)),
                st.one_of(st.none(), st.integers(min_value=-30, max_value=400)),
                # Days to completion (None: a closed item whose day was never recorded) and
                # to a won't-do decision (None: decided before the day was recorded).
                st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
                st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
            ),
            max_size=2,
        ),
    }
)


def arrange(db, specs, zone: str) -> dict[str, object]:
    from models import Team

    db.execute(delete(Incident))
    db.commit()
    db.expunge_all()
    teams = list(db.scalars(select(Team).order_by(Team.name)))
    if not teams:
        teams = [
            make_team("A", [(date(2020, 1, 1), 4), (date(2020, 5, 17), 9), (date(2021, 2, 1), 0)]),
            make_team("B", [(date(2020, 3, 3), 3), (date(2020, 8, 20), 8)]),
        ]
        make_stage("Small", 0, 10)
        make_stage("Big", 11, None)
    factors = [
        db.scalars(
            select(ContributingFactor).where(ContributingFactor.category == category)
        ).first()
        for category in CauseCategory
    ]
    factors.append(
        db.scalars(
            select(ContributingFactor).where(
                ContributingFactor.category == CauseCategory.TECH_DEBT_CULTURE,
                ContributingFactor.id != factors[1].id,
            )
        ).first()
    )
    boundaries = local_boundary_instants(zone)
    for i, spec in enumerate(specs):
        start = spec["start"] if isinstance(spec["start"], datetime) else boundaries[spec["start"]]
        detected = None if spec["detect"] is None else start + timedelta(seconds=spec["detect"])
        mitigated = (
            None
            if detected is None or spec["mitigate"] is None
            else detected + timedelta(seconds=spec["mitigate"])
        )
        resolved = (
            None
            if spec["resolve"] is None
            else (mitigated or detected or start) + timedelta(seconds=spec["resolve"])
        )
        incident = Incident(
            key=f"T-{i}",
            title=f"Incident {i}",
            started_at=start,
            detected_at=detected,
            mitigated_at=mitigated,
            resolved_at=resolved,
            is_near_miss=spec["near_miss"],
            exclude_from_metrics=spec["excluded"],
            is_restricted=spec["restricted"],
            status=spec["status"],
            severity=spec["severity"],
            team_id=teams[spec["team"]].id,
        )
        incident.factors = [IncidentFactor(factor_id=factors[f].id) for f in spec["factors"]]
        incident.impacts = [
            ImpactEstimate(
                kind=ImpactKind.LOST_REVENUE,
                currency=c,
                low=None if shape in ("no low", "likely only") else low,
                likely=low + mid,
                high=None if shape in ("no high", "likely only") else low + mid + hi,
            )
            for c, low, mid, hi, shape in spec["impacts"]
        ]
        start_day = start.astimezone(ZoneInfo(zone)).date()
        incident.action_items = [
            ActionItem(
                title="Follow up",
                group=LessonGroup.TECHNICAL,
                type=action_type,
                status=status,
                due_on=None if due is None else start_day + timedelta(days=due),
                completed_on=start_day + timedelta(days=took)
                if took is not None and status in (ActionStatus.DONE, ActionStatus.WONT_DO)
                else None,
                decided_on=start_day + timedelta(days=decided)
                if decided is not None and status is ActionStatus.WONT_DO
                else None,
            )
            for status, action_type, due, took, decided in spec["actions"]
        ]
        db.add(incident)
    db.commit()
    return {"teams": teams}


# Independent reference computations.


def headcount_on(db, day: date, team_id: int | None = None) -> int:
    from models import HeadcountSnapshot

    latest: dict[int, tuple[date, int]] = {}
    for snap in db.scalars(select(HeadcountSnapshot)):
        mine = snap.on_date <= day and (team_id is None or snap.team_id == team_id)
        if mine and (snap.team_id not in latest or latest[snap.team_id][0] < snap.on_date):
            latest[snap.team_id] = (snap.on_date, snap.headcount)
    return sum(n for _, n in latest.values())


def quarter_days(day: date) -> int:
    q = Quarter.of(day)
    return q.days


def reference_quantiles(values: list[Decimal]) -> tuple[Decimal | None, Decimal | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    ordered = sorted(values)
    median = statistics.quantiles(ordered, n=2, method="inclusive")[0]
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8]
    return median, p90


def reference_group(incidents: list[Incident], as_of: date, zone: str) -> dict[str, object]:
    counted = [i for i in incidents if not i.exclude_from_metrics]
    main = [i for i in counted if not i.is_near_miss]
    by_category = Counter()
    for incident in main:
        for category in {f.factor.category for f in incident.factors}:
            by_category[category] += 1
    durations = {
        "time_to_detect": [seconds(i.time_to_detect) for i in main if i.time_to_detect is not None],
        "time_to_mitigate": [
            seconds(i.time_to_mitigate) for i in main if i.time_to_mitigate is not None
        ],
        "time_to_resolve": [
            seconds(i.time_to_resolve) for i in main if i.time_to_resolve is not None
        ],
    }
    # Full ranges summed bound by bound; the others apart, their likely values summed.
    money: dict[str, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), 0, 0])
    for incident in main:
        for e in incident.impacts:
            sums = money[e.currency]
            if e.low is not None and e.high is not None:
                sums[0] += 1
                sums[1] += e.low
                sums[2] += e.likely
                sums[3] += e.high
            else:
                sums[4] += 1
                sums[5] += e.likely
    partition, days = reference_partition(incidents, as_of, zone)
    items = [a for i in counted for a in i.action_items]
    return {
        "incidents": len(main),
        "near_misses": len(counted) - len(main),
        "by_category": {c: by_category[c] for c in CauseCategory},
        "durations": {k: (len(v), *reference_quantiles(v)) for k, v in durations.items()},
        "money": dict(money),
        "actions": (
            *partition,
            sum(a.type is ActionType.PREVENTIVE for a in items),
            (len(days), *reference_quantiles(days)),
        ),
    }


def reference_partition(
    incidents: list[Incident], as_of: date, zone: str, *, near_misses: bool = True
) -> tuple[tuple[int, int, int, int, int], list[Decimal]]:
    """The action items of the counted incidents (near-misses' with them when `near_misses`)
    as they stood at the end of `as_of`: (total, done, won't do, overdue, open and not yet
    due), and the days from the incident's start to done of those done by then (their day
    known). An item closed on a day never recorded is closed since its incident's start day."""
    tz = ZoneInfo(zone)
    parts: Counter[str] = Counter()
    days: list[Decimal] = []
    for incident in incidents:
        if incident.exclude_from_metrics or (incident.is_near_miss and not near_misses):
            continue
        start_day = incident.started_at.astimezone(tz).date()
        for a in incident.action_items:
            if a.status is ActionStatus.DONE:
                closed = a.completed_on or start_day
            elif a.status is ActionStatus.WONT_DO:
                closed = a.decided_on or a.completed_on or start_day
            else:
                closed = None
            parts["total"] += 1
            if closed is not None and closed <= as_of:
                part = "done" if a.status is ActionStatus.DONE else "wont_do"
                if a.status is ActionStatus.DONE and a.completed_on is not None:
                    days.append(Decimal((a.completed_on - start_day).days))
            elif a.due_on is not None and a.due_on < as_of:
                part = "overdue"
            else:
                part = "open"
            parts[part] += 1
    counts = tuple(parts[k] for k in ("total", "done", "wont_do", "overdue", "open"))
    assert sum(counts[1:]) == counts[0]
    return counts, days  # type: ignore[return-value]


def figures_of(group) -> dict[str, object]:
    return {
        "incidents": group.incidents,
        "near_misses": group.near_misses,
        "by_category": group.by_category,
        "durations": {k: (v.n, v.median, v.p90) for k, v in group.durations.items()},
        "money": {
            t.unit: [t.ranges, t.low, t.likely, t.high, t.apart, t.apart_likely]
            for t in group.impacts
        },
        "actions": (
            *partition_of(group.actions),
            group.actions.preventive,
            (
                group.actions.days_to_done.n,
                group.actions.days_to_done.median,
                group.actions.days_to_done.p90,
            ),
        ),
    }


def partition_of(actions) -> tuple[int, int, int, int, int]:
    return (actions.total, actions.done, actions.wont_do, actions.overdue, actions.open_not_due)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(incident_specs, max_size=14),
    as_of_days=st.lists(
        st.dates(min_value=date(2019, 12, 1), max_value=date(2023, 6, 30)),
        min_size=1,
        max_size=4,
        unique=True,
    ),
)
def test_trend_figures_match_an_independent_recomputation(app, db, specs, as_of_days) -> None:
    zone = app.config["TIMEZONE"]
    arrange(db, specs, zone)
    report = trend_report(ReportFilters(FIRST, LAST), as_of=AS_OF, now=NOW)
    tz = ZoneInfo(zone)
    incidents = list(db.scalars(select(Incident)))
    in_range = [i for i in incidents if FIRST <= i.started_at.astimezone(tz).date() <= LAST]

    # Quarters: every quarter listed, zeros included; local quarter of the start.
    by_quarter: dict[str, list[Incident]] = defaultdict(list)
    for incident in in_range:
        local = incident.started_at.astimezone(tz)
        by_quarter[f"{local.year}Q{(local.month - 1) // 3 + 1}"].append(incident)
    assert [q.quarter.label for q in report.quarters] == [
        f"{y}Q{n}" for y in (2020, 2021) for n in (1, 2, 3, 4)
    ]
    for row in report.quarters:
        expected = reference_group(by_quarter[row.quarter.label], AS_OF, zone)
        assert row.incidents == expected["incidents"], row.quarter
        assert row.near_misses == expected["near_misses"], row.quarter
        assert row.by_category == expected["by_category"], row.quarter

    # Overall: every figure.
    assert figures_of(report.overall) == reference_group(in_range, AS_OF, zone)

    # Stages: the stage of each incident's start day, from the headcount that day.
    def stage_of(day: date) -> str | None:
        total = headcount_on(db, day)
        return "Small" if total <= 10 else "Big"

    by_stage: dict[str, list[Incident]] = defaultdict(list)
    for incident in in_range:
        day = incident.started_at.astimezone(tz).date()
        by_stage[stage_of(day)].append(incident)
    assert {row.stage.name for row in report.stages} == {"Small", "Big"}
    for row in report.stages:
        assert figures_of(row.figures) == reference_group(by_stage[row.stage.name], AS_OF, zone)
        # Person-quarters: day by day over the stage's days up to the report's day (its
        # today): no rate counts a day after it.
        expected_pq = Fraction(0)
        day = FIRST
        while day <= min(LAST, AS_OF):
            if stage_of(day) == row.stage.name:
                expected_pq += Fraction(headcount_on(db, day), quarter_days(day))
            day += timedelta(days=1)
        assert row.rate.person_quarters == expected_pq, row.stage.name
        if expected_pq:
            assert (
                row.rate.per_10_people
                == Fraction(
                    len(
                        [
                            i
                            for i in by_stage[row.stage.name]
                            if not i.exclude_from_metrics and not i.is_near_miss
                        ]
                    )
                    * 10
                )
                / expected_pq
            )

    # The action items' partition on other days, near-misses in and out, from the same pieces.
    for near_misses in (True, False):
        filters = ReportFilters(FIRST, LAST, near_misses=near_misses)
        figures = group_figures(
            filters,
            [(str(day), FIRST, LAST + timedelta(days=1)) for day in as_of_days],
            {str(day): day for day in as_of_days},
        )
        for day in as_of_days:
            actions = figures[str(day)].actions
            expected, days = reference_partition(in_range, day, zone, near_misses=near_misses)
            assert partition_of(actions) == expected, (day, near_misses)
            assert sum(partition_of(actions)[1:]) == actions.total
            assert (actions.days_to_done.n, actions.days_to_done.median) == (
                len(days),
                reference_quantiles(days)[0],
            ), (day, near_misses)


def test_quarterly_review_counts_restricted_incidents_without_detailing_them(app, db) -> None:
    from tests.factories import make_incident, utc

    team = make_team("A", [(date(2020, 1, 1), 5)])
    visible = make_incident(
        "Seen", utc(2020, 11, 2, 9), team_id=team.id, status=IncidentStatus.PUBLISHED
    )
    make_incident(
        "Secret",
        utc(2020, 11, 3, 9),
        team_id=team.id,
        status=IncidentStatus.PUBLISHED,
        is_restricted=True,
    )
    make_incident("A draft", utc(2020, 11, 4, 9), team_id=team.id)
    make_incident(
        "Excluded", utc(2020, 11, 5, 9), exclude_from_metrics=True, status=IncidentStatus.PUBLISHED
    )
    reader = make_user(Role.READER)
    db.commit()
    report = quarterly_report(Quarter(2020, 4), reader, now=NOW)
    assert report.figures.incidents == 3  # the draft and the restricted one count
    assert [i.title for i in report.incidents] == [visible.title]
    assert report.hidden == 2


def test_a_past_quarter_counts_as_overdue_what_was_open_at_its_end(db) -> None:
    """An item due in Q1 and done in Q2 was overdue at Q1's end, whatever it is today: the
    quarter's figures and its action items at quarter end agree."""
    from models import ActionItem, ActionType, LessonGroup
    from postmortems.reports.periods import Quarter
    from postmortems.reports.service import quarterly_report
    from tests.factories import make_incident, utc

    incident = make_incident("Late fix", started_at=utc(2021, 1, 10, 12))
    done_in_q2 = ActionItem(
        title="Fix it",
        group=LessonGroup.TECHNICAL,
        type=ActionType.CORRECTIVE,
        due_on=date(2021, 2, 1),
        status=ActionStatus.DONE,
        completed_on=date(2021, 4, 5),
    )
    incident.action_items.append(done_in_q2)
    db.commit()
    report = quarterly_report(Quarter.parse("2021Q1"), None, now=datetime.now(UTC))
    assert report.figures.actions.overdue == 1
    assert report.actions_overdue_at_end == 1
    later = quarterly_report(Quarter.parse("2021Q2"), None, now=datetime.now(UTC))
    assert later.previous.actions.overdue == 1
