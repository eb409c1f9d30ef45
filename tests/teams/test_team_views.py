"""Teams, headcount and growth stages through their pages."""

from datetime import date

from sqlalchemy import select

from models import GrowthStage, HeadcountSnapshot, Team
from tests.conftest import field_errors
from tests.factories import make_stage, make_team


def test_add_a_team_and_its_headcount(browser, db) -> None:
    response = browser.submit("/teams/new", {"name": "ML", "description": "Models"})
    team = db.scalars(select(Team)).one()
    assert response.headers["Location"].endswith(f"/teams/{team.id}")
    browser.submit(f"/teams/{team.id}", {"on_date": "2020-08-01", "headcount": "8"})
    browser.submit(f"/teams/{team.id}", {"on_date": "2020-12-01", "headcount": "12"})
    html = browser.get("/teams/").get_data(as_text=True)
    assert "ML" in html and "2020-12-01" in html
    assert [
        s.headcount
        for s in db.scalars(select(HeadcountSnapshot).order_by(HeadcountSnapshot.on_date))
    ] == [8, 12]


def test_team_names_are_unique(browser, db) -> None:
    make_team("ML")
    db.commit()
    html = browser.submit("/teams/new", {"name": " ML "}).get_data(as_text=True)
    assert field_errors(html, "name") == ["Another team has this name."]


def test_a_headcount_must_be_a_positive_whole_number(browser, db) -> None:
    team = make_team("ML")
    db.commit()
    for bad in ("-3", "eight", "2.5", ""):
        html = browser.submit(
            f"/teams/{team.id}", {"on_date": "2020-08-01", "headcount": bad}
        ).get_data(as_text=True)
        assert field_errors(html, "headcount"), bad
    assert db.scalars(select(HeadcountSnapshot)).all() == []


def test_one_count_per_team_and_date(browser, db) -> None:
    team = make_team("ML", [(date(2020, 8, 1), 8)])
    db.commit()
    html = browser.submit(
        f"/teams/{team.id}", {"on_date": "2020-08-01", "headcount": "9"}
    ).get_data(as_text=True)
    assert field_errors(html, "on_date") == [
        "This team already has a count for this date; remove it first."
    ]


def test_remove_a_count(browser, db) -> None:
    team = make_team("ML", [(date(2020, 8, 1), 8)])
    db.commit()
    snapshot = team.snapshots[0]
    browser.submit(
        f"/teams/{team.id}", {}, action=f"/teams/{team.id}/snapshots/{snapshot.id}/delete"
    )
    assert db.scalars(select(HeadcountSnapshot)).all() == []


def test_a_count_of_another_team_is_not_found(browser, db) -> None:
    team = make_team("ML", [(date(2020, 8, 1), 8)])
    other = make_team("Backend")
    db.commit()
    response = browser.submit(
        f"/teams/{team.id}", {}, action=f"/teams/{other.id}/snapshots/{team.snapshots[0].id}/delete"
    )
    assert response.status_code == 404


def test_add_stages_with_bands(browser, db) -> None:
    browser.submit(
        "/teams/stages/new", {"name": "Founding", "min_headcount": "0", "max_headcount": "10"}
    )
    browser.submit(
        "/teams/stages/new", {"name": "Growth", "min_headcount": "21", "max_headcount": ""}
    )
    html = browser.get("/teams/").get_data(as_text=True)
    assert "0–10" in html and "21+" in html
    assert (
        db.scalars(select(GrowthStage).where(GrowthStage.name == "Growth")).one().max_headcount
        is None
    )


def test_stage_bands_may_not_overlap_or_run_backwards(browser, db) -> None:
    make_stage("Founding", 0, 10)
    db.commit()
    html = browser.submit(
        "/teams/stages/new", {"name": "Scaling", "min_headcount": "10", "max_headcount": "20"}
    ).get_data(as_text=True)
    assert field_errors(html, "max_headcount") == ["Overlaps the stage “Founding” (0–10)."]
    html = browser.submit(
        "/teams/stages/new", {"name": "Scaling", "min_headcount": "20", "max_headcount": "11"}
    ).get_data(as_text=True)
    assert field_errors(html, "max_headcount") == ["Cannot be below the lower bound."]
    assert len(db.scalars(select(GrowthStage)).all()) == 1


def test_editing_a_stage_does_not_overlap_itself(browser, db) -> None:
    stage = make_stage("Founding", 0, 10)
    db.commit()
    response = browser.submit(
        f"/teams/stages/{stage.id}/edit",
        {"name": "Founding", "min_headcount": "0", "max_headcount": "12"},
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(GrowthStage, stage.id).max_headcount == 12


def test_edit_a_team(browser, db) -> None:
    team = make_team("ML")
    db.commit()
    browser.submit(f"/teams/{team.id}/edit", {"name": "Machine learning"})
    db.expire_all()
    assert db.get(Team, team.id).name == "Machine learning"
