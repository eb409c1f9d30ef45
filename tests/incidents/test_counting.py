"""One counting rule (incidents/counting.py): the reports, the list's filter and the causes
page count the same incidents, and a count beside a link equals the rows of its list."""

import re

import pytest

from models import IncidentFactor, IncidentStatus, Role
from tests.conftest import make_user, sign_in
from tests.factories import factor_named, make_incident, make_team, utc

PUBLISHED = {"status": IncidentStatus.PUBLISHED}


@pytest.fixture
def quarter(db) -> None:
    """2024Q1: one incident in every state the rule tells apart, each naming Fatigue."""
    team = make_team("ML")
    cases = [
        ("published", PUBLISHED),
        ("draft", {}),
        ("near-miss", {**PUBLISHED, "is_near_miss": True}),
        ("excluded", {**PUBLISHED, "exclude_from_metrics": True}),
        ("external", {**PUBLISHED, "source_collection": "icco"}),
        ("restricted", {**PUBLISHED, "is_restricted": True, "team_id": team.id}),
    ]
    for day, (title, fields) in enumerate(cases, start=1):
        incident = make_incident(title, utc(2024, 2, day, 10), **fields)
        incident.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    db.commit()


def list_rows(client, url: str) -> int:
    html = client.get(url).get_data(as_text=True)
    return len(re.findall(r'<td class="nowrap" data-label="Key">', html))


def test_the_list_filter_shows_what_the_quarterly_review_counts(client, quarter) -> None:
    data = client.get("/reports/quarterly/2024Q1.json").get_json()
    assert data["this_quarter"]["incidents"] == 3  # published, draft, restricted
    assert data["this_quarter"]["near_misses"] == 1
    assert list_rows(client, "/incidents/?metrics=1&year=2024") == 3
    assert list_rows(client, "/incidents/?metrics=near_miss&year=2024") == 1


def test_the_excluded_filter_lists_what_the_reports_leave_out(client, quarter) -> None:
    assert list_rows(client, "/incidents/?metrics=excluded&year=2024") == 1  # ours only
    external = "/incidents/?metrics=excluded&year=2024&origin=external"
    assert list_rows(client, external) == 1


def test_a_readers_quarterly_review_lists_and_notes_every_counted_one(app, db, quarter) -> None:
    reader = make_user(Role.READER)
    db.commit()
    data = sign_in(app.test_client(), reader).get("/reports/quarterly/2024Q1.json").get_json()
    figures = data["this_quarter"]
    listed = len(data["postmortems"]) + data["postmortems_not_shown"]
    assert listed == figures["incidents"] + figures["near_misses"] == 4


def test_a_readers_causes_page_links_what_the_list_shows_and_notes_the_rest(
    app, db, quarter
) -> None:
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    html = client.get("/taxonomy/").get_data(as_text=True)
    fatigue = factor_named("Fatigue").id
    link = f'href="/incidents/?factor={fatigue}&amp;metrics=1" data-count="1">1 incident<'
    assert link in html  # the published one: the draft and the restricted one are hidden
    assert list_rows(client, f"/incidents/?factor={fatigue}&metrics=1") == 1
    item = html.split(link, 1)[1].split("</li>")[0]
    assert "(2 more counted, not shown to you)" in item
