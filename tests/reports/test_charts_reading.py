"""The charts read back from their SVG: every bar's height is the figure it stands for (read
against its panel's axis), nothing is stacked, no bar is taller than the incidents it stands
for, no two labels overlap and text is at least 11 px on a 390 px phone. The dataset: 2022Q3
has two incidents, one with factors in three categories (stacked, its bar would be 4 high),
and the company enters two growth stages 19 days apart (their names would collide)."""

from datetime import date

import pytest

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    CauseCategory,
    ContributingFactor,
    IncidentFactor,
    LessonGroup,
)
from tests.factories import make_incident, make_stage, make_team, utc
from tests.reports.svg_reading import (
    bars,
    outside,
    overlapping_labels,
    parse,
    points,
    smallest_font_at_phone_width,
)
from tests.reports.test_charts import table_rows

TREND = "/reports/trends.svg?from=2021-01-01&to=2022-12-31"
QUARTERLY_CHARTS = ["incidents", "categories", "actions"]


@pytest.fixture
def dataset(db) -> None:
    make_team("Imaging", [(date(2021, 1, 1), 8), (date(2022, 7, 1), 15), (date(2022, 7, 20), 25)])
    make_stage("Founding", 0, 10)
    make_stage("Scaling", 11, 20)
    make_stage("Growth", 21, None)
    factors = {c: ContributingFactor(category=c, name=f"Factor of {c.name}") for c in CauseCategory}
    db.add_all(factors.values())
    db.flush()
    three = make_incident("Threshold meant two things", utc(2022, 8, 10, 9))
    for c in (CauseCategory.PERSONAL, CauseCategory.TECH_DEBT_CULTURE, CauseCategory.CHANCE):
        db.add(IncidentFactor(incident_id=three.id, factor_id=factors[c].id))
    one = make_incident("Evaluator scored the maximum", utc(2022, 9, 5, 9))
    db.add(IncidentFactor(incident_id=one.id, factor_id=factors[CauseCategory.CHANCE].id))
    earlier = make_incident("Probability rounded", utc(2021, 5, 3, 9))
    db.add(IncidentFactor(incident_id=earlier.id, factor_id=factors[CauseCategory.PERSONAL].id))
    for status, due in (
        (ActionStatus.DONE, date(2022, 9, 1)),
        (ActionStatus.OPEN, date(2022, 9, 30)),
    ):
        db.add(
            ActionItem(
                incident_id=three.id,
                title=f"Item {status.name}",
                group=LessonGroup.TECHNICAL,
                type=ActionType.PREVENTIVE,
                status=status,
                due_on=due,
                completed_on=date(2022, 8, 30) if status == ActionStatus.DONE else None,
            )
        )
    db.commit()


def test_the_total_bar_is_the_number_of_incidents_not_the_sum_of_categories(client, dataset):
    drawn = bars(parse(client.get(TREND).get_data()))
    assert drawn["bar-2022Q3-incidents"].height == 2
    assert drawn["bar-2021Q2-incidents"].height == 1


def test_each_category_bar_is_its_categorys_count(client, dataset) -> None:
    drawn = bars(parse(client.get(TREND).get_data()))
    data = client.get(TREND.replace(".svg", ".json")).get_json()
    for q in data["quarters"]:
        for category, n in q["by_category"].items():
            assert drawn[f"bar-{q['quarter']}-{category}"].height == n
    assert drawn["bar-2022Q3-CHANCE"].height == 2


def test_no_bar_is_taller_than_the_incidents_it_stands_for(client, dataset) -> None:
    drawn = bars(parse(client.get(TREND).get_data()))
    for gid, bar in drawn.items():
        quarter = gid.split("-")[1]
        assert bar.height <= drawn[f"bar-{quarter}-incidents"].height, gid


def test_nothing_in_the_trend_chart_is_stacked(client, dataset) -> None:
    assert {bar.bottom for bar in bars(parse(client.get(TREND).get_data())).values()} == {0}


def test_no_two_labels_of_the_trend_chart_overlap(client, dataset) -> None:
    root = parse(client.get(TREND).get_data())
    assert overlapping_labels(root) == []
    assert outside(root) == []


def test_the_stages_entered_days_apart_are_both_named(client, dataset) -> None:
    text = client.get(TREND).get_data(as_text=True)
    assert "2022-07-01 entered Scaling" in text and "2022-07-20 entered Growth" in text


def test_trend_chart_text_is_at_least_11_px_on_a_phone(client, dataset) -> None:
    assert smallest_font_at_phone_width(parse(client.get(TREND).get_data())) >= 11


def test_a_long_range_names_years_without_overlap(client, dataset) -> None:
    root = parse(client.get("/reports/trends.svg?from=1990-01-01&to=2022-12-31").get_data())
    assert overlapping_labels(root) == [] and outside(root) == []


@pytest.mark.parametrize("chart", QUARTERLY_CHARTS)
def test_quarterly_chart_labels_never_overlap_and_read_on_a_phone(client, dataset, chart):
    root = parse(client.get(f"/reports/quarterly/2022Q3/{chart}.svg").get_data())
    assert overlapping_labels(root) == [] and outside(root) == []
    assert smallest_font_at_phone_width(root) >= 11
    assert {bar.bottom for bar in bars(root).values()} == {0}


def test_quarterly_incidents_chart_draws_the_table_beside_it(client, dataset) -> None:
    html = client.get("/reports/quarterly/2022Q3").get_data(as_text=True)
    rows = table_rows(html, "history-incidents-table")
    assert [r[0] for r in rows] == ["2020Q4"] + [
        f"{y}Q{n}" for y in (2021, 2022) for n in (1, 2, 3, 4)
    ][:7]
    root = parse(client.get("/reports/quarterly/2022Q3/incidents.svg").get_data())
    drawn, rates = bars(root), points(root, "rate-")
    for quarter, incidents, _, per_10, _ in rows:
        assert drawn[f"bar-{quarter}-incidents"].height == int(incidents)
        if per_10 == "—":  # no headcount, no rate: nothing drawn
            assert f"rate-{quarter}" not in rates
        else:
            assert rates[f"rate-{quarter}"] == pytest.approx(float(per_10), abs=0.006)
    assert rows[0][3] == "—" and rows[-1][3] != "—"


def test_quarterly_category_chart_draws_the_table_beside_it(client, dataset) -> None:
    html = client.get("/reports/quarterly/2022Q3").get_data(as_text=True)
    drawn = bars(parse(client.get("/reports/quarterly/2022Q3/categories.svg").get_data()))
    for quarter, incidents, *counts in table_rows(html, "history-categories-table"):
        for category, n in zip(CauseCategory, counts, strict=True):
            assert drawn[f"bar-{quarter}-{category.name}"].height == int(n) <= int(incidents)
    assert drawn["bar-2022Q3-CHANCE"].height == 2


def test_quarterly_action_chart_draws_parts_that_add_up(client, dataset) -> None:
    html = client.get("/reports/quarterly/2022Q3").get_data(as_text=True)
    drawn = bars(parse(client.get("/reports/quarterly/2022Q3/actions.svg").get_data()))
    rows = table_rows(html, "history-actions-table")
    for quarter, total, *parts in rows:
        assert sum(int(p) for p in parts) == int(total)
        for name, n in zip(("done", "wont_do", "overdue", "open"), parts, strict=True):
            assert drawn[f"bar-{quarter}-{name}"].height == int(n) <= int(total)
    assert rows[-1][1:] == ["2", "1", "0", "1", "0"]  # the open item is overdue by today


def test_quarterly_page_shows_its_charts_as_images_under_the_page_policy(client, dataset):
    page = client.get("/reports/quarterly/2022Q3?severity=SEV2")
    html = page.get_data(as_text=True)
    for chart in QUARTERLY_CHARTS:
        assert f'src="/reports/quarterly/2022Q3/{chart}.svg?severity=SEV2' in html
    assert "<svg" not in html and " style=" not in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_an_unknown_quarterly_chart_is_a_404(client, dataset) -> None:
    assert client.get("/reports/quarterly/2022Q3/stacked.svg").status_code == 404
    assert client.get("/reports/quarterly/2022Q9/incidents.svg").status_code == 404
    assert client.get("/reports/quarterly/2022Q3/incidents.svg?severity=X").status_code == 400


def test_the_quarterly_markdown_keeps_tables_only(client, dataset) -> None:
    text = client.get("/reports/quarterly/2022Q3.md").get_data(as_text=True)
    assert ".svg" not in text and "data:image" not in text
