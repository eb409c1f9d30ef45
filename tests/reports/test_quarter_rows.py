"""Issue 19's quarter rows on a fixed dataset, through the page, JSON and Markdown (and the PDF's
text): ties at the top factors' cut, every stage a quarter spans, no rate counting a day after
today, a stage entered twice, nulls for n = 0 and no headcount, the too-small note on every
column, the guard section and the quarter's stages and headcount."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    ContributingFactor,
    GuardStatus,
    IncidentFactor,
    LessonGroup,
    Role,
)
from postmortems.pdf import render_document
from postmortems.reports.freezing import freeze_quarterly
from postmortems.reports.periods import Quarter
from postmortems.reports.render import quarterly_html
from postmortems.reports.service import quarterly_report
from postmortems.timezones import local_today
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, make_stage, make_team, utc
from tests.reports.test_pdf import document_text

# Founding from 1 Aug 2020; Scaling from 2021; in 2022Q1 Growth from 14 Feb and Large from
# 10 Mar; Scaling again from 1 Jun 2022 (entered twice), Large again from 1 Sep 2022.
COUNTS = [
    (date(2020, 8, 1), 8),
    (date(2021, 1, 1), 15),
    (date(2022, 2, 14), 25),
    (date(2022, 3, 10), 35),
    (date(2022, 6, 1), 15),
    (date(2022, 9, 1), 35),
]
TREND = "/reports/trends.json?from=2020-01-01&to=2022-12-31"


@pytest.fixture
def data(db) -> dict[str, int]:
    for name, low, high in (("Founding", 1, 10), ("Scaling", 11, 20), ("Growth", 21, 30)):
        make_stage(name, low, high)
    make_stage("Large", 31, None)
    make_team("ML", COUNTS)
    factors = list(db.scalars(select(ContributingFactor).order_by(ContributingFactor.id)))[:7]
    guard = make_guard("Reference predictions")
    guard.status, guard.created_at = GuardStatus.ACTIVE, utc(2021, 1, 1)
    earlier = make_incident("Masks broke", utc(2021, 6, 1))
    earlier.action_items.append(
        ActionItem(
            title="Result-unchanged test",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            status=ActionStatus.DONE,
            guards=[guard],
        )
    )
    make_incident("Late in 2021", utc(2021, 11, 1))
    # 2022Q1: six incidents; the first factor on all, six others on one each (a tie at 1).
    for i in range(6):
        incident = make_incident(f"Q1 incident {i}", utc(2022, 1, 10 + i))
        incident.factors = [
            IncidentFactor(factor_id=factors[0].id),
            IncidentFactor(factor_id=factors[i + 1].id),
        ]
    again = make_incident(
        "Masks broke again", utc(2022, 3, 20), recurrence_of_id=earlier.id, is_restricted=True
    )
    db.commit()
    return {"guard": guard.id, "again": again.id}


def test_a_top_factor_list_says_what_ties_at_its_cut(client, data) -> None:
    q = client.get("/reports/quarterly/2022Q1.json").get_json()["this_quarter"]
    assert len(q["top_factors"]) == 5 and q["top_factors"][-1]["incidents"] == 1
    assert q["top_factors_tied_beyond"] == {"factors": 2, "incidents": 1}
    assert "And 2 more at 1 incident (tied at the cut, not listed)." in client.get(
        "/reports/quarterly/2022Q1"
    ).get_data(as_text=True)
    md = client.get("/reports/quarterly/2022Q1.md").get_data(as_text=True)
    assert "And 2 more at 1 incident (tied at the cut, not listed)." in md
    previous = client.get("/reports/quarterly/2022Q1.json").get_json()["previous_quarter"]
    assert previous["top_factors_tied_beyond"] is None


def test_a_quarter_row_names_every_stage_it_spans(client, data) -> None:
    rows = {q["quarter"]: q for q in client.get(TREND).get_json()["quarters"]}
    assert rows["2022Q1"]["stage"] == "Scaling"
    assert rows["2022Q1"]["stages"] == [
        {"name": "Scaling", "from": "2022-01-01"},
        {"name": "Growth", "from": "2022-02-14"},
        {"name": "Large", "from": "2022-03-10"},
    ]
    assert rows["2020Q3"]["stage"] is None
    assert rows["2020Q3"]["stages"] == [{"name": "Founding", "from": "2020-08-01"}]
    assert rows["2020Q2"]["stages"] == []
    html = client.get("/reports/trends?from=2020-01-01&to=2022-12-31").get_data(as_text=True)
    assert "Scaling → Growth (14 Feb) → Large (10 Mar)" in html
    assert "Founding (from 1 Aug)" in html


def test_the_quarterly_review_names_its_stages_and_headcount(client, data) -> None:
    data_json = client.get("/reports/quarterly/2022Q1.json").get_json()
    assert [s["name"] for s in data_json["stages"]] == ["Scaling", "Growth", "Large"]
    assert data_json["headcount"] == {
        "start": 15,
        "start_on": "2022-01-01",
        "end": 35,
        "end_on": "2022-03-31",
    }
    line = (
        "Growth stage: Scaling → Growth (14 Feb) → Large (10 Mar). Company headcount: "
        "15 on 2022-01-01 (the first day), 35 on 2022-03-31 (the last day)."
    )
    assert line in client.get("/reports/quarterly/2022Q1").get_data(as_text=True)
    assert line in client.get("/reports/quarterly/2022Q1.md").get_data(as_text=True)
    before = client.get("/reports/quarterly/2020Q3.json").get_json()["headcount"]
    assert before["start"] is None and before["end"] == 8


def test_no_rate_counts_a_day_after_today(client, data) -> None:
    today = local_today()
    span = f"from={today - timedelta(days=100)}"
    future = client.get(f"/reports/trends.json?{span}&to={today + timedelta(days=300)}")
    up_to_today = client.get(f"/reports/trends.json?{span}&to={today}")
    assert (
        future.get_json()["overall"]["person_quarters"]
        == (up_to_today.get_json()["overall"]["person_quarters"])
    )
    large = [s for s in future.get_json()["stages"] if s["name"] == "Large"]
    assert large[0]["person_quarters"] == up_to_today.get_json()["overall"]["person_quarters"]


def test_a_stage_entered_twice_gives_its_periods_and_their_ends(client, data) -> None:
    scaling = next(s for s in client.get(TREND).get_json()["stages"] if s["name"] == "Scaling")
    assert scaling["periods"] == [
        {"from": "2021-01-01", "to": "2022-02-13"},
        {"from": "2022-06-01", "to": "2022-08-31"},
    ]
    assert (scaling["from"], scaling["to"]) == ("2021-01-01", "2022-08-31")


def test_figures_of_no_incidents_and_no_headcount_are_null(client, data) -> None:
    empty = client.get("/reports/quarterly/2019Q1.json").get_json()["this_quarter"]
    assert empty["incidents"] == 0
    assert set(empty["category_shares"].values()) == {None}
    for kind in ("time_to_detect", "time_to_mitigate", "time_to_resolve"):
        assert empty[kind] == {"n": 0, "median_seconds": None, "p90_seconds": None}
    actions = empty["action_items"]
    assert actions["share_done"] is None and actions["share_overdue"] is None
    assert actions["share_preventive_guarded"] is None
    assert actions["days_to_done"] == {"n": 0, "median_days": None, "p90_days": None}
    trend = client.get("/reports/trends.json?from=2019-01-01&to=2019-12-31").get_json()
    overall = trend["overall"]
    assert overall["rate_per_10_people"] is None and overall["rate_interval"] is None
    assert overall["person_quarters"] == "0.0000"


def test_every_column_too_small_carries_the_note(client, data) -> None:
    figures = client.get("/reports/quarterly/2022Q1.json").get_json()
    assert figures["this_quarter"]["too_small"] is False
    assert figures["previous_quarter"]["too_small"] and figures["year_before"]["too_small"]
    note = "Fewer than 5 incidents in 2021Q4 and 2021Q1: too few to read a trend from."
    md = client.get("/reports/quarterly/2022Q1.md").get_data(as_text=True)
    assert note in md and "| too few to read a trend from | no | yes | yes |" in md
    html = client.get("/reports/quarterly/2022Q1").get_data(as_text=True)
    assert note in html


def test_the_guard_section_is_in_every_format_for_its_reader(app, client, db, data) -> None:
    figures = client.get("/reports/quarterly/2022Q1.json").get_json()["guard_checks"]
    assert figures["escapes"] == 1
    assert figures["escaped"] == [
        {
            "id": data["guard"],
            "name": "Reference predictions",
            "recurrences": 1,
            "recurrences_not_shown": 0,
        }
    ]
    assert figures["states"]["NEVER_VERIFIED"] == 1
    md = client.get("/reports/quarterly/2022Q1.md").get_data(as_text=True)
    assert "## Guard checks\n" in md and "not counted): 1: Reference predictions (1)." in md
    reader = make_user(Role.READER)
    db.commit()
    as_reader = sign_in(app.test_client(), reader)
    seen = as_reader.get("/reports/quarterly/2022Q1.json").get_json()["guard_checks"]
    assert seen["escaped"][0]["recurrences_not_shown"] == 1
    md = as_reader.get("/reports/quarterly/2022Q1.md").get_data(as_text=True)
    assert "Reference predictions (0, and 1 more counted, not shown to you)." in md
    html = as_reader.get("/reports/quarterly/2022Q1").get_data(as_text=True)
    assert "and 1 more counted, not shown to you" in html


def test_a_frozen_review_keeps_the_guard_section_and_stages(client, db, data) -> None:
    frozen = freeze_quarterly(Quarter(2022, 1), user=None, now=datetime(2024, 1, 1, tzinfo=UTC))
    db.commit()
    stored = json.loads(frozen.figures_json)
    assert stored["guard_checks"]["escapes"] == 1
    assert "recurrences_not_shown" not in stored["guard_checks"]["escaped"][0]
    assert [s["name"] for s in stored["stages"]] == ["Scaling", "Growth", "Large"]
    page = client.get(f"/reports/quarterly/2022Q1?frozen={frozen.id}").get_data(as_text=True)
    assert "Reference predictions (1)" in page and "And 2 more at 1 incident" in page


def test_the_pdf_text_carries_the_new_lines(app, data) -> None:
    with app.test_request_context("/reports/quarterly/2022Q1"):
        report = quarterly_report(Quarter(2022, 1), None, now=datetime.now(UTC), page=None)
        text = document_text(render_document(quarterly_html(report)))
    assert "Scaling → Growth (14 Feb) → Large (10 Mar)" in text
    assert "And 2 more at 1 incident" in text
    assert "in 2021Q4 and 2021Q1: too few to read a trend from" in text
    assert "Escaped guards" in text
