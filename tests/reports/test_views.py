"""The report pages, JSON and Markdown on the demo data; the golden Markdown file."""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Incident, Role
from postmortems.demo import load_demo_data
from tests.conftest import make_user, sign_in
from tests.factories import utc

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_QUARTERS = ["2020Q3", "2020Q4", "2022Q3"]


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def test_trend_page_and_json_show_the_demo_figures(client, demo) -> None:
    page = client.get("/reports/trends?from=2020-01-01&to=2022-12-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Founding" in html and "Scaling" in html
    assert "too few to read a trend from" in html
    data = client.get("/reports/trends.json?from=2020-01-01&to=2022-12-31").get_json()
    assert data["zone"] == "UTC" and data["from"] == "2020-01-01" and data["to"] == "2022-12-31"
    assert [q["quarter"] for q in data["quarters"]][:4] == ["2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    assert len(data["quarters"]) == 12
    q3 = data["quarters"][2]
    assert q3["incidents"] == 1 and q3["near_misses"] == 0
    categories = {"PERSONAL", "TECH_DEBT_CULTURE", "PROCESS_COMMUNICATION", "CHANCE"}
    assert set(q3["by_category"]) == categories
    assert data["overall"]["incidents"] == 3
    resolve = data["overall"]["time_to_resolve"]
    assert resolve["n"] == 1 and resolve["median_seconds"] == 15303600
    founding = data["stages"][0]
    assert founding["name"] == "Founding" and founding["incidents"] == 1
    assert set(founding) >= {"from", "to", "person_quarters", "rate_per_10_people", "rate_interval"}


def test_a_filter_narrows_and_a_bad_filter_is_a_400(client, demo) -> None:
    data = client.get("/reports/trends.json?from=2020-01-01&to=2022-12-31&severity=SEV4")
    assert data.get_json()["overall"]["incidents"] == 0
    for query in ("from=2020-13-01", "severity=SEV9", "team=abc", "near_misses=2", "to=1969-01-01"):
        assert client.get(f"/reports/trends?{query}").status_code == 400, query
    assert client.get("/reports/trends?from=2022-01-01&to=2021-01-01").status_code == 400


def test_unknown_quarters_are_404(client) -> None:
    for name in ("2020Q5", "1", "2101Q1", "x.json"):
        assert client.get(f"/reports/quarterly/{name}").status_code == 404, name
    assert client.get("/reports/quarterly/2020Q5.json").status_code == 404


def test_quarterly_page_json_and_markdown(client, demo) -> None:
    html = client.get("/reports/quarterly/2020Q4").get_data(as_text=True)
    assert "Quarterly review 2020Q4" in html and "2020Q3" in html and "2019Q4" in html
    data = client.get("/reports/quarterly/2020Q4.json").get_json()
    assert data["quarter"] == "2020Q4" and data["this_quarter"]["incidents"] == 1
    assert data["previous_quarter"]["quarter"] == "2020Q3"
    assert data["previous_quarter"]["incidents"] == 1
    assert data["year_before"]["incidents"] == 0
    money = [i for i in data["this_quarter"]["impacts"] if i["money"]]
    assert money and all(isinstance(i["likely"] or i["likely_apart"], str) for i in money)
    md = client.get("/reports/quarterly/2020Q4.md")
    assert md.mimetype == "text/markdown"
    assert md.get_data(as_text=True).startswith("# Quarterly review 2020Q4")


@pytest.mark.parametrize("quarter", GOLDEN_QUARTERS)
def test_quarterly_markdown_matches_the_golden_file(client, demo, quarter: str) -> None:
    """Byte for byte: change the golden file only in a commit that says why
    (UPDATE_GOLDEN=1 writes it again)."""
    text = client.get(f"/reports/quarterly/{quarter}.md").get_data(as_text=True)
    path = GOLDEN / f"quarterly-{quarter}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_the_next_report_shows_a_changed_figure(client, db, demo) -> None:
    before = client.get("/reports/quarterly/2020Q4.json").get_json()
    assert before["this_quarter"]["incidents"] == 1
    incident = db.scalars(select(Incident).where(Incident.started_at >= utc(2020, 10, 1))).first()
    from postmortems.db import commit_change

    def exclude() -> None:
        incident.exclude_from_metrics = True
        db.flush()

    commit_change(exclude)
    after = client.get("/reports/quarterly/2020Q4.json").get_json()
    assert after["this_quarter"]["incidents"] == 0
    trend = client.get("/reports/trends.json?from=2020-01-01&to=2022-12-31").get_json()
    assert trend["overall"]["incidents"] == 2


def test_a_reader_sees_figures_but_not_hidden_postmortems(app, db, demo) -> None:
    incident = db.scalars(select(Incident).where(Incident.started_at >= utc(2020, 10, 1))).first()
    incident.is_restricted = True
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    data = client.get("/reports/quarterly/2020Q4.json").get_json()
    assert data["this_quarter"]["incidents"] == 1
    assert data["postmortems"] == [] and data["postmortems_not_shown"] == 1
    md = client.get("/reports/quarterly/2020Q4.md").get_data(as_text=True)
    assert incident.title not in md and "1 more counted, not shown to you." in md


def test_command_line_writes_the_same_markdown_and_html(app, runner, demo, tmp_path) -> None:
    target = tmp_path / "q.md"
    result = runner.invoke(args=["report", "quarterly", "2020Q4", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == (GOLDEN / "quarterly-2020Q4.md").read_text()
    html = runner.invoke(args=["report", "quarterly", "2020Q4", "--format", "html"])
    assert html.exit_code == 0 and "Quarterly review 2020Q4" in html.output
    bad = runner.invoke(args=["report", "quarterly", "2020Q9"])
    assert bad.exit_code != 0 and "2020Q4" in bad.output


def test_an_estimate_without_a_full_range_is_kept_apart_in_every_format(client, demo) -> None:
    """The demo's 2020Q4 lost revenue gives only a likely value: it is not summed into a
    range (that could read high below likely) but shown apart, digits grouped."""
    data = client.get("/reports/quarterly/2020Q4.json").get_json()
    rub = next(i for i in data["this_quarter"]["impacts"] if i["unit"] == "RUB")
    assert rub["estimates"] == 1 and rub["estimates_in_range"] == 0
    assert (rub["low"], rub["likely"], rub["high"]) == (None, None, None)
    assert (rub["estimates_apart"], rub["likely_apart"]) == (1, "400000.00")
    row = "| Lost revenue | RUB | 1 without a full range | — | 400,000.00 | — |"
    assert row in client.get("/reports/quarterly/2020Q4.md").get_data(as_text=True)
    html = client.get("/reports/quarterly/2020Q4").get_data(as_text=True)
    assert "1 without a full range" in html and "400,000.00" in html
    assert "over the estimates that gave all three" in html


def test_the_trend_page_says_what_a_rate_means(client, demo) -> None:
    html = client.get("/reports/trends?start=2020-01-01&end=2022-12-31").get_data(as_text=True)
    assert "incidents for every 10 people in a quarter; with " in html
    assert "the true rate could be anywhere from" in html
