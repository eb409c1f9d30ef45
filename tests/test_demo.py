"""`flask demo load`: the founding story, loaded once, with figures as DESIGN.md tells them."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from models import (
    GuardCheck,
    ImpactEstimate,
    ImpactKind,
    Incident,
    IncidentStatus,
    ReadingPath,
    ReadingPathItem,
)


@pytest.fixture
def loaded(runner, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded demo data: 3 postmortems." in result.output
    return db


def test_demo_load_is_idempotent(runner, loaded) -> None:
    again = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in again.output
    assert loaded.scalar(select(func.count()).select_from(Incident)) == 3
    assert loaded.scalar(select(func.count()).select_from(GuardCheck)) == 8


def test_loading_the_demo_again_keeps_what_people_changed(runner, loaded) -> None:
    incident = loaded.scalar(select(Incident).where(Incident.key == "PM-2020-001"))
    incident.summary = "Edited by a reader of the demo"
    loaded.commit()
    runner.invoke(args=["demo", "load"])
    loaded.expire_all()
    assert incident.summary == "Edited by a reader of the demo"


def test_demo_incidents_are_published_with_keys(loaded) -> None:
    incidents = loaded.scalars(select(Incident).order_by(Incident.started_at)).all()
    assert [i.key for i in incidents] == ["PM-2020-001", "PM-2020-002", "PM-2022-001"]
    assert {i.status for i in incidents} == {IncidentStatus.PUBLISHED}
    for incident in incidents:
        assert incident.factors and incident.impacts and incident.lessons and incident.action_items
        assert all(item.guards for item in incident.action_items)


def test_demo_impact_figures_match_the_founding_story(loaded) -> None:
    rows = loaded.execute(
        text(
            "SELECT i.key, e.kind, e.low, e.likely, e.high, e.currency, e.unit "
            "FROM impact_estimate e JOIN incident i ON i.id = e.incident_id"
        )
    ).all()
    by_key = {
        (key, kind): (low, likely, high, currency, unit)
        for key, kind, low, likely, high, currency, unit in rows
    }

    def exact(value):  # raw rows: text on SQLite, NUMERIC on PostgreSQL
        return None if value is None else Decimal(str(value))

    images = by_key[("PM-2020-001", "ITEMS_PROCESSED_WRONGLY")]
    assert exact(images[1]) == 1500 and images[4] == "images"
    lost = by_key[("PM-2020-002", "LOST_REVENUE")]
    assert exact(lost[1]) == Decimal("400000") and lost[3] == "RUB"
    delay = by_key[("PM-2020-002", "RELEASE_DELAY")]
    assert exact(delay[1]) == 14 and delay[4] == "days"
    half_year = by_key[("PM-2022-001", "LOST_REVENUE")]
    assert exact(half_year[0]) == exact(half_year[1]) == 6 and half_year[4] == "months of profit"


def test_demo_headcount_puts_each_incident_in_its_stage(loaded, client) -> None:
    # Recomputed from raw rows: the ML team's latest count on or before each start date.
    counts = loaded.execute(text("SELECT on_date, headcount FROM headcount_snapshot")).all()
    stages = loaded.execute(
        text("SELECT name, min_headcount, max_headcount FROM growth_stage")
    ).all()
    expected = {}
    for incident in loaded.scalars(select(Incident)):
        start = incident.started_at.date()
        headcount = max((c for c in counts if _as_date(c[0]) <= start), key=lambda c: c[0])[1]
        stage = next(
            n for n, lo, hi in stages if lo <= headcount and (hi is None or headcount <= hi)
        )
        expected[incident.id] = (headcount, stage)
    assert sorted(h for h, _ in expected.values()) == [8, 12, 20]
    for incident_id, (headcount, stage) in expected.items():
        html = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
        assert f"{headcount} people" in html and f"stage: {stage}" in html


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_demo_amounts_show_exactly_on_the_page(loaded, client) -> None:
    incident = loaded.scalars(select(Incident).where(Incident.key == "PM-2020-002")).one()
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "400,000.00" in html and "RUB" in html
    impact = loaded.scalars(
        select(ImpactEstimate).where(
            ImpactEstimate.kind == ImpactKind.LOST_REVENUE,
            ImpactEstimate.incident_id == incident.id,
        )
    ).one()
    assert impact.likely == Decimal("400000") and impact.low is None


def test_db_upgrade_command_reports_success(runner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "Database upgraded to head." in result.output


def test_demo_tells_how_each_incident_was_found_as_the_story_does(loaded) -> None:
    found = {i.key: i.detection_md for i in loaded.scalars(select(Incident))}
    assert "noticed the garbage predictions himself" in found["PM-2020-001"]
    assert "radiologist" not in found["PM-2020-001"]
    assert "Our own calibration on 100 external studies" in found["PM-2020-002"]
    response = loaded.scalars(select(Incident).where(Incident.key == "PM-2022-001")).one()
    assert "months of model improvement" in response.response_md


def test_demo_times_are_marked_as_estimates(loaded) -> None:
    for incident in loaded.scalars(select(Incident)):
        for name in ("started", "detected", "mitigated", "resolved"):
            if getattr(incident, f"{name}_at") is not None:
                assert getattr(incident, f"{name}_is_estimated"), (incident.key, name)


def test_the_december_2020_postmortem_has_its_personal_lesson(loaded) -> None:
    incident = loaded.scalars(select(Incident).where(Incident.key == "PM-2020-002")).one()
    personal = [lesson.text_md for lesson in incident.lessons if lesson.group.name == "PERSONAL"]
    assert personal == [
        "A growing company adds failure points between teams: look beyond your own area."
    ]


def test_demo_guards_show_a_healthy_a_failing_and_a_stale_guard(runner, loaded) -> None:
    from datetime import UTC, datetime

    from models import GuardRun
    from postmortems.guards.runs import GuardState, guard_states

    states = guard_states(datetime.now(UTC))
    names = {g.id: g.name for g in loaded.scalars(select(GuardCheck))}
    by_state = {}
    for guard_id, facts in states.items():
        by_state.setdefault(facts.state, set()).add(names[guard_id])
    assert "Full test pipeline on every merge" in by_state[GuardState.HEALTHY]
    assert by_state[GuardState.FAILING] == {"Predictions unchanged on the reference studies"}
    assert by_state[GuardState.STALE] == {"Prediction distribution monitor"}
    runs = loaded.scalar(select(func.count()).select_from(GuardRun))
    runner.invoke(args=["demo", "load"])
    assert loaded.scalar(select(func.count()).select_from(GuardRun)) == runs  # added once


def test_demo_has_a_reading_path_over_the_founding_incidents(loaded, client) -> None:
    path = loaded.scalars(select(ReadingPath)).one()
    assert path.title == "Start here: the founding story" and path.for_new_users
    assert [item.incident.key for item in path.items] == [
        "PM-2020-001",
        "PM-2020-002",
        "PM-2022-001",
    ]
    assert all(item.note_md for item in path.items)
    html = client.get(f"/paths/{path.id}").get_data(as_text=True)
    assert "0 of 3 read" in html


def test_loading_the_demo_twice_adds_no_second_path_or_item(runner, loaded) -> None:
    runner.invoke(args=["demo", "load"])
    assert loaded.scalar(select(func.count()).select_from(ReadingPath)) == 1
    assert loaded.scalar(select(func.count()).select_from(ReadingPathItem)) == 3


def test_demo_action_items_were_not_done_before_their_incident_was_detected(loaded) -> None:
    for incident in loaded.scalars(select(Incident)):
        detected = incident.detected_at.date()
        for item in incident.action_items:
            assert item.completed_on is None or item.completed_on >= detected, item.title
            assert "illustrative" in item.details_md  # the story gives no such date


def test_demo_load_reads_the_shipped_files(loaded) -> None:
    from postmortems.demo import demo_files

    names = set(demo_files())
    assert {"teams.yaml", "stages.yaml", "guards.yaml"} <= names
    assert "users.yaml" not in names  # the CLI creates the demo admin itself
    assert {n for n in names if n.startswith("postmortems/")} == {
        f"postmortems/{key}.md" for key in loaded.scalars(select(Incident.key))
    }


def test_a_new_hire_finds_the_founding_incidents_by_search_in_russian_and_english(
    loaded, client
) -> None:
    russian = client.get("/search?q=ошибку").get_data(as_text=True)
    assert all(key in russian for key in ("PM-2020-001", "PM-2020-002", "PM-2022-001"))
    english = client.get("/search?q=rounding").get_data(as_text=True)
    assert "PM-2020-002" in english
