"""Incident queries: keys, filters and the growth stage at the start."""

from datetime import date

from sqlalchemy import select

from models import CauseCategory, IncidentFactor, IncidentStatus, Role, Severity
from postmortems.incidents.service import (
    IncidentFilters,
    growth_at_start,
    list_incidents,
    set_tags,
)
from tests.conftest import make_user
from tests.factories import factor_named, make_incident, make_stage, make_team, utc


def titles(db, filters: IncidentFilters) -> list[str]:
    viewer = make_user(Role.ADMIN)
    return [i.title for i in db.scalars(list_incidents(viewer, filters))]


def test_keys_count_up_within_the_start_year(db) -> None:
    first = make_incident("a", utc(2020, 1, 5))
    second = make_incident("b", utc(2020, 6, 5))
    other_year = make_incident("c", utc(2021, 1, 5))
    assert (first.key, second.key, other_year.key) == ("PM-2020-001", "PM-2020-002", "PM-2021-001")


def test_list_is_newest_first(db) -> None:
    make_incident("old", utc(2020, 1, 1))
    make_incident("new", utc(2022, 1, 1))
    assert titles(db, IncidentFilters()) == ["new", "old"]


def test_filter_by_status_and_severity(db) -> None:
    make_incident("draft sev1", severity=Severity.SEV1)
    make_incident("published sev1", severity=Severity.SEV1, status=IncidentStatus.PUBLISHED)
    make_incident("published sev3", status=IncidentStatus.PUBLISHED)
    assert titles(db, IncidentFilters(status=IncidentStatus.PUBLISHED, severity=Severity.SEV1)) == [
        "published sev1"
    ]


def test_filter_by_factor_and_by_its_category(db) -> None:
    tired = make_incident("tired")
    tired.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    untested = make_incident("untested")
    untested.factors.append(IncidentFactor(factor=factor_named("Missing tests")))
    db.flush()
    assert titles(db, IncidentFilters(category=CauseCategory.PERSONAL)) == ["tired"]
    assert titles(db, IncidentFilters(factor_id=factor_named("Missing tests").id)) == ["untested"]
    assert titles(db, IncidentFilters(category=CauseCategory.CHANCE)) == []


def test_filter_by_team_and_tag(db) -> None:
    team = make_team("Data")
    tagged = make_incident("tagged", team=team)
    set_tags(tagged, ["config"])
    make_incident("plain")
    db.flush()
    assert titles(db, IncidentFilters(team_id=team.id)) == ["tagged"]
    assert titles(db, IncidentFilters(tag="Config ")) == ["tagged"]


def test_filter_by_year_uses_the_team_time_zone(app_config) -> None:
    from postmortems.db import session
    from tests.conftest import new_app

    app = new_app({**app_config, "TIMEZONE": "Europe/Moscow"})
    with app.app_context():
        # 2020-12-31 22:00 UTC is already 2021-01-01 01:00 in Moscow.
        make_incident("new year's night", utc(2020, 12, 31, 22))
        assert titles(session, IncidentFilters(year=2021)) == ["new year's night"]
        assert titles(session, IncidentFilters(year=2020)) == []
    app.extensions["db_engine"].dispose()


def test_filter_by_stage_uses_company_headcount_on_the_start_day(db) -> None:
    make_team("ML", [(date(2020, 8, 1), 8), (date(2020, 12, 1), 12)])
    make_team("Backend", [(date(2020, 11, 1), 3)])
    founding = make_stage("Founding", 0, 10)
    scaling = make_stage("Scaling", 11, 20)
    make_incident("aug", utc(2020, 8, 17))  # 8 people
    make_incident("nov", utc(2020, 11, 15))  # 8 + 3 = 11
    make_incident("before any count", utc(2019, 1, 1))
    assert titles(db, IncidentFilters(stage_id=founding.id)) == ["aug"]
    assert titles(db, IncidentFilters(stage_id=scaling.id)) == ["nov"]


def test_growth_at_start_sums_the_latest_count_of_each_team(db) -> None:
    make_team("ML", [(date(2020, 8, 1), 8), (date(2020, 12, 1), 12)])
    make_team("Backend", [(date(2020, 11, 1), 3), (date(2021, 1, 1), 5)])
    make_stage("Scaling", 11, 20)
    growth = growth_at_start(make_incident("dec", utc(2020, 12, 1, 0, 0)))
    assert growth.by_team == {"ML": 12, "Backend": 3}
    assert growth.total == 15
    assert growth.stage.name == "Scaling"


def test_growth_at_start_is_none_before_any_headcount(db) -> None:
    make_team("ML", [(date(2020, 8, 1), 8)])
    assert growth_at_start(make_incident("early", utc(2020, 7, 31, 23))) is None


def test_set_tags_reuses_existing_tags(db) -> None:
    from models import Tag

    first = make_incident("a")
    second = make_incident("b")
    set_tags(first, ["ml", "config"])
    set_tags(second, ["ml"])
    db.flush()
    assert sorted(db.scalars(select(Tag.name))) == ["config", "ml"]


def test_a_headcount_counted_over_a_year_before_the_start_is_flagged_stale(db) -> None:
    make_team("ML", [(date(2020, 1, 1), 8)])
    db.commit()
    fresh = growth_at_start(make_incident("soon", utc(2020, 6, 1, 0, 0)))
    stale = growth_at_start(make_incident("late", utc(2022, 6, 1, 0, 0)))
    assert fresh is not None and stale is not None
    assert fresh.counted_on == stale.counted_on == date(2020, 1, 1)
    assert not fresh.is_stale and stale.is_stale
