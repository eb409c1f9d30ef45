"""Where the reports open, the quarterly review's picker, and a bad filter: the form again with
what was typed and the message beside the field (a 400); JSON a JSON error naming the field."""

import re
from datetime import date

import pytest

from models import IncidentStatus, Role
from postmortems.demo import load_demo_data
from postmortems.reports.navigation import neighbours, trend_span
from postmortems.reports.periods import Quarter
from tests.conftest import make_user, sign_in
from tests.factories import make_incident, utc


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def field_errors(html: str, name: str) -> list[str]:
    """The messages shown beside the form's field `name`."""
    match = re.search(
        rf'<div class="field has-error" data-field="{name}">(.*?)</div>', html, re.DOTALL
    )
    assert match, f"no error beside {name}"
    return re.findall(r"<li>(.*?)</li>", match.group(1))


def test_the_trend_report_opens_on_the_quarters_that_hold_incidents(client, demo) -> None:
    html = client.get("/reports/trends").get_data(as_text=True)
    # The demo's incidents: 2020Q3, 2020Q4, 2022Q3 (fewer than 8 quarters hold any).
    assert "From 2020-07-01 to 2022-09-30" in html
    assert 'value="2020-07-01"' in html and 'value="2022-09-30"' in html
    assert 'id="opening-span"' in html
    # The JSON and the chart are of the days shown.
    assert "/reports/trends.json?from=2020-07-01&amp;to=2022-09-30" in html
    assert "/reports/trends.svg?from=2020-07-01&amp;to=2022-09-30" in html
    # Days asked for are kept; other filters alone still open on the data.
    asked = client.get("/reports/trends?from=2021-01-01&to=2021-12-31").get_data(as_text=True)
    assert "From 2021-01-01 to 2021-12-31" in asked and 'id="opening-span"' not in asked
    narrowed = client.get("/reports/trends?severity=SEV1").get_data(as_text=True)
    assert "From 2020-07-01 to 2022-09-30" in narrowed


def test_with_no_incidents_the_reports_open_as_before(client, db) -> None:
    today = date.today()
    html = client.get("/reports/trends").get_data(as_text=True)
    assert f"From {today.year - 2}-01-01 to {today}" in html
    response = client.get("/reports/quarterly/")
    assert response.status_code == 302
    assert response.location.endswith(f"/reports/quarterly/{Quarter.of(today).previous}")


def test_the_spans_rules() -> None:
    quarters = tuple(Quarter(2020 + i // 4, i % 4 + 1) for i in reversed(range(12)))
    assert trend_span(quarters, date(2026, 1, 1)) == (date(2021, 1, 1), date(2022, 12, 31))
    # The newest quarter not over yet: up to today.
    assert trend_span(quarters, date(2022, 11, 5)) == (date(2021, 1, 1), date(2022, 11, 5))
    assert trend_span((), date(2022, 11, 5)) is None
    sparse = (Quarter(2022, 3), Quarter(2020, 4), Quarter(2020, 3))
    assert neighbours(sparse, Quarter(2020, 4)) == (Quarter(2020, 3), Quarter(2022, 3))
    assert neighbours(sparse, Quarter(2021, 2)) == (Quarter(2020, 4), Quarter(2022, 3))
    assert neighbours(sparse, Quarter(2022, 3)) == (Quarter(2020, 4), None)
    assert neighbours((), Quarter(2021, 2)) == (Quarter(2021, 1), Quarter(2021, 3))


def test_the_quarterly_review_opens_on_the_newest_quarter_with_incidents(client, demo) -> None:
    response = client.get("/reports/quarterly/")
    assert response.status_code == 302 and response.location.endswith("/reports/quarterly/2022Q3")


def test_the_picker_lists_the_quarters_with_incidents_and_skips_empty_ones(client, demo) -> None:
    html = client.get("/reports/quarterly/2020Q4").get_data(as_text=True)
    picker = re.search(r'<select id="quarter" name="quarter"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert picker
    options = re.findall(r'<option value="([^"]*)"( selected)?>', picker.group(1))
    assert options == [("2022Q3", ""), ("2020Q4", " selected"), ("2020Q3", "")]
    assert 'href="/reports/quarterly/2020Q3" rel="prev"' in html
    assert 'href="/reports/quarterly/2022Q3" rel="next"' in html  # 2021's quarters skipped
    # An empty quarter is shown chosen in the picker and its neighbours are the nearest full.
    empty = client.get("/reports/quarterly/2021Q2").get_data(as_text=True)
    assert '<option value="2021Q2" selected>' in empty
    assert 'href="/reports/quarterly/2020Q4" rel="prev"' in empty
    # The picker's form goes to the quarter asked for, with its filters.
    response = client.get("/reports/quarterly/?quarter=2020Q3&severity=SEV1&team=")
    assert response.status_code == 302
    assert response.location.endswith("/reports/quarterly/2020Q3?severity=SEV1")


def test_the_picker_lists_only_quarters_the_reader_may_see(app, db, demo) -> None:
    make_incident("A draft far ahead", utc(2023, 5, 2, 9), status=IncidentStatus.DRAFT)
    make_incident("Published", utc(2023, 2, 2, 9), status=IncidentStatus.PUBLISHED)
    reader = make_user(Role.READER, "reader@example.com")
    db.commit()
    client = sign_in(app.test_client(), reader)
    assert client.get("/reports/quarterly/").location.endswith("/reports/quarterly/2023Q1")
    html = client.get("/reports/quarterly/2023Q1").get_data(as_text=True)
    assert '<option value="2023Q2"' not in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2022-01-01&to=2021-01-01", "to", "Cannot be before the start."),
        ("from=2021-02-30", "from", "Give a date as 2020-12-31."),
        ("team=99999", "team", "No team has this number: choose one from the list."),
        ("severity=SEV9", "severity", "Choose one of"),
        ("near_misses=2", "near_misses", "Give 1 to show near-misses or 0 to hide them."),
    ],
)
def test_a_bad_trend_filter_keeps_the_form_with_the_message_beside_the_field(
    client, demo, query: str, field: str, message: str
) -> None:
    response = client.get(f"/reports/trends?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<form method="get" class="filters report-filters" action="/reports/trends"' in html
    assert field_errors(html, field)[0].startswith(message)
    assert f'aria-describedby="{field}-errors"' in html
    for typed in query.split("&"):  # what was typed is shown back
        name, value = typed.split("=")
        assert f'value="{value}"' in html, typed
    answer = client.get(f"/reports/trends.json?{query}")
    assert answer.status_code == 400 and answer.mimetype == "application/json"
    body = answer.get_json()
    assert body["error"] == "bad_request" and body["fields"][field][0].startswith(message)


@pytest.mark.parametrize(
    ("query", "field"),
    [("severity=SEV9", "severity"), ("team=99999", "team"), ("status=nope", "status")],
)
def test_a_bad_quarterly_filter_keeps_the_picker(client, demo, query: str, field: str) -> None:
    response = client.get(f"/reports/quarterly/2020Q4?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Quarterly review 2020Q4" in html and 'action="/reports/quarterly/"' in html
    assert field_errors(html, field)
    assert '<option value="2020Q4" selected>' in html
    answer = client.get(f"/reports/quarterly/2020Q4.json?{query}")
    assert answer.status_code == 400 and field in answer.get_json()["fields"]


def test_a_bad_quarter_in_the_picker_keeps_the_form(client, demo) -> None:
    response = client.get("/reports/quarterly/?quarter=2020Q5&severity=SEV1")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_errors(html, "quarter") == ["Name a quarter as 2020Q4."]
    assert '<option value="2020Q5" selected>' in html  # what was typed
    assert '<option value="SEV1" selected>' in html
    # A quarter in the address stays a 404 page.
    assert client.get("/reports/quarterly/2020Q5").status_code == 404


def test_the_api_keeps_its_json_errors_and_defaults(app, db, demo) -> None:
    from tests.api.helpers import Api, user_with_token

    api = Api(app, user_with_token(Role.ADMIN)[1])
    response = api.get("/api/v1/reports/trends?from=2021-01-01&to=2020-12-31")
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"to": ["Cannot be before the start."]}
    today = date.today()
    data = api.get("/api/v1/reports/trends").get_json()
    assert data["from"] == f"{today.year - 2}-01-01"
