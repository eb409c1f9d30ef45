"""The causes page counts incidents as the reports do (not excluded, not external references;
drafts counted; near-misses apart), and each count links to the list of the same incidents."""

import re
from html import unescape

import pytest

from models import IncidentFactor, IncidentStatus, Role
from tests.conftest import make_user, sign_in
from tests.factories import factor_named, make_incident, make_team, utc

COUNT_LINK = re.compile(r'<a class="hint" href="([^"]+)" data-count="(\d+)">')


@pytest.fixture
def incidents(db) -> None:
    """Incidents in every state the counting rule tells apart, naming a few factors."""
    team = make_team("ML")
    cases = [
        ("published", {"status": IncidentStatus.PUBLISHED}, ["Fatigue", "No quick rollback"]),
        ("draft", {}, ["Fatigue"]),
        ("in review", {"status": IncidentStatus.IN_REVIEW}, ["Fatigue", "No monitoring or alerts"]),
        ("excluded", {"exclude_from_metrics": True}, ["Fatigue", "No quick rollback"]),
        ("near-miss", {"is_near_miss": True, "status": IncidentStatus.PUBLISHED}, ["Fatigue"]),
        ("excluded near-miss", {"is_near_miss": True, "exclude_from_metrics": True}, ["Fatigue"]),
        (
            "external",
            {"source_collection": "icco", "status": IncidentStatus.PUBLISHED},
            ["Fatigue", "No quick rollback"],
        ),
        (
            "restricted",
            {"is_restricted": True, "status": IncidentStatus.PUBLISHED, "team_id": team.id},
            ["No quick rollback"],
        ),
    ]
    for i, (title, fields, factors) in enumerate(cases):
        incident = make_incident(title, utc(2024, 1, 1 + i, 10), **fields)
        for name in factors:
            incident.factors.append(IncidentFactor(factor=factor_named(name)))
    db.commit()


def count_links(html: str) -> list[tuple[str, int]]:
    return [(unescape(url), int(n)) for url, n in COUNT_LINK.findall(html)]


def listed(client, url: str) -> int:
    html = client.get(url).get_data(as_text=True)
    rows = len(re.findall(r'<td class="nowrap" data-label="Key">', html))
    total = re.search(r'<p class="count">(\d+) postmortem', html)
    assert rows == (int(total.group(1)) if total else 0)
    return rows


def test_each_count_equals_the_rows_its_link_lists(client, incidents) -> None:
    html = client.get("/taxonomy/").get_data(as_text=True)
    links = count_links(html)
    assert len(links) >= 4
    for url, n in links:
        assert listed(client, url) == n, url
    fatigue = factor_named("Fatigue").id
    assert (f"/incidents/?factor={fatigue}&metrics=1", 3) in links  # published, draft, review
    assert (f"/incidents/?factor={fatigue}&metrics=near_miss", 1) in links
    assert "more counted, not shown to you" not in html


def test_a_reader_is_told_how_many_more_were_counted(app, db, incidents) -> None:
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    html = client.get("/taxonomy/").get_data(as_text=True)
    rollback = factor_named("No quick rollback").id
    url = f"/incidents/?factor={rollback}&metrics=1"
    assert (url, 1) in count_links(html)  # published; the restricted one is noted apart
    assert listed(client, url) == 1
    item = html.split(f'href="/incidents/?factor={rollback}&amp;metrics=1"', 1)[1].split("</li>")[0]
    assert "(1 more counted, not shown to you)" in item


@pytest.mark.parametrize(
    ("value", "titles"),
    [
        ("1", {"published", "draft", "in review", "restricted"}),
        ("near_miss", {"near-miss"}),
        ("excluded", {"excluded", "excluded near-miss"}),
    ],
)
def test_list_filter_by_how_reports_count(client, incidents, value, titles) -> None:
    html = client.get(f"/incidents/?metrics={value}").get_data(as_text=True)
    shown = set(re.findall(r'<a href="/incidents/\d+">([^<]+)</a>', html))
    assert shown == titles


def test_a_bad_metrics_value_is_refused_beside_the_field(client) -> None:
    response = client.get("/incidents/?metrics=maybe")
    assert response.status_code == 400


def test_the_causes_page_counts_a_factor_as_the_trend_report_does(client, incidents) -> None:
    html = client.get("/taxonomy/").get_data(as_text=True)
    fatigue = factor_named("Fatigue").id
    shown = dict(count_links(html))[f"/incidents/?factor={fatigue}&metrics=1"]
    trends = client.get("/reports/trends.json?from=2024-01-01&to=2024-12-31").get_json()
    assert shown == count_in_trends(trends, "Fatigue") == 3


def count_in_trends(trends, name: str) -> int:
    """The factor's count in the trend report's top factors for the whole range."""
    found = [f["incidents"] for f in trends["overall"]["top_factors"] if f["name"] == name]
    assert found, trends["overall"]["top_factors"]
    return int(found[0])
