"""The cause taxonomy page and adding factors to it."""

from sqlalchemy import select

from models import CauseCategory, ContributingFactor
from tests.conftest import field_errors
from tests.factories import factor_named


def test_the_four_categories_and_seeded_factors_are_listed(client) -> None:
    html = client.get("/taxonomy/").get_data(as_text=True)
    for category in CauseCategory:
        assert category.label in html
    assert "No quick rollback" in html and "Misunderstanding between teams" in html


def test_add_a_factor(browser, db) -> None:
    browser.submit(
        "/taxonomy/factors/new", {"category": "TECH_DEBT_CULTURE", "name": "Flaky tests"}
    )
    assert factor_named("Flaky tests").category is CauseCategory.TECH_DEBT_CULTURE
    assert "Flaky tests" in browser.get("/taxonomy/").get_data(as_text=True)


def test_a_factor_name_is_unique_within_its_category(browser, db) -> None:
    html = browser.submit(
        "/taxonomy/factors/new", {"category": "PERSONAL", "name": "Fatigue"}
    ).get_data(as_text=True)
    assert field_errors(html, "name") == ["This category already has a factor with this name."]
    count = len(
        db.scalars(select(ContributingFactor).where(ContributingFactor.name == "Fatigue")).all()
    )
    assert count == 1


def test_edit_a_factor(browser, db) -> None:
    factor = factor_named("Fatigue")
    browser.submit(
        f"/taxonomy/factors/{factor.id}/edit",
        {"category": "PERSONAL", "name": "Fatigue and overwork"},
    )
    db.expire_all()
    assert db.get(ContributingFactor, factor.id).name == "Fatigue and overwork"
