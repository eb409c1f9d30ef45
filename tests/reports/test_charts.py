"""The server-drawn charts: valid SVG, the same bytes for the same figures, the numbers drawn
the same as the table under the chart and the JSON, and served so that the CSP holds."""

import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from postmortems.demo import load_demo_data
from tests.reports.svg_reading import bars

SVG = "{http://www.w3.org/2000/svg}svg"
RANGE = "from=2020-01-01&to=2022-12-31"


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def svg_root(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == SVG
    return root


def ids(root: ET.Element, prefix: str) -> list[str]:
    return [e.get("id", "") for e in root.iter() if e.get("id", "").startswith(prefix)]


def table_rows(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def test_trend_chart_is_valid_svg_with_the_same_numbers_as_the_json(client, demo, app) -> None:
    response = client.get(f"/reports/trends.svg?{RANGE}")
    root = svg_root(response)
    data = client.get(f"/reports/trends.json?{RANGE}").get_json()
    drawn = {tuple(gid.split("-")[1:]): bar.height for gid, bar in bars(root).items()}
    expected = {
        (q["quarter"], category): n
        for q in data["quarters"]
        for category, n in [*q["by_category"].items(), ("incidents", q["incidents"])]
    }
    assert drawn == expected
    assert sum(expected.values()) > 0
    assert [g.removeprefix("stage-") for g in ids(root, "stage-")] == data["stage_boundaries"]
    assert data["stage_boundaries"]


def test_trend_table_under_the_chart_carries_the_json_numbers(client, demo) -> None:
    html = client.get(f"/reports/trends?{RANGE}").get_data(as_text=True)
    assert f'src="/reports/trends.svg?{RANGE.replace("&", "&amp;")}"' in html
    data = client.get(f"/reports/trends.json?{RANGE}").get_json()
    rows = table_rows(html, "quarters-table")
    assert len(rows) == len(data["quarters"])
    for row, q in zip(rows, data["quarters"], strict=True):
        categories = ["PERSONAL", "TECH_DEBT_CULTURE", "PROCESS_COMMUNICATION", "CHANCE"]
        assert row[0] == q["quarter"]
        assert int(row[2]) == q["incidents"]
        assert [int(c) for c in row[3:7]] == [q["by_category"][c] for c in categories]
        assert int(row[7]) == q["near_misses"]


def test_the_chart_is_the_same_bytes_when_drawn_again(client, demo, app) -> None:
    first = client.get(f"/reports/trends.svg?{RANGE}").get_data()
    app.extensions["figure_cache"].clear()
    assert client.get(f"/reports/trends.svg?{RANGE}").get_data() == first


def test_a_filter_reaches_the_chart(client, demo) -> None:
    root = svg_root(client.get(f"/reports/trends.svg?{RANGE}&severity=SEV4"))
    assert {bar.height for bar in bars(root).values()} == {0}
    assert client.get("/reports/trends.svg?severity=SEV9").status_code == 400


def test_svg_answers_with_a_policy_that_forbids_scripts(client, demo) -> None:
    response = client.get(f"/reports/trends.svg?{RANGE}")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    assert b"<script" not in response.get_data()
    page = client.get(f"/reports/trends?{RANGE}")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "<svg" not in page.get_data(as_text=True)  # no inline SVG with style attributes


def test_the_chart_needs_a_signed_in_reader(anonymous, demo) -> None:
    assert anonymous.get("/reports/trends.svg").status_code in (302, 401, 403)


def test_headcount_chart_draws_the_steps_of_the_teams_table(client, demo) -> None:
    html = client.get("/teams/").get_data(as_text=True)
    assert 'src="/teams/headcount.svg"' in html
    rows = table_rows(html, "headcount-table")
    assert rows
    root = svg_root(client.get("/teams/headcount.svg"))
    steps = [gid.removeprefix("step-") for gid in ids(root, "step-")]
    assert [int(s.rsplit("-", 1)[1]) for s in steps] == [int(r[2]) for r in rows]
    assert len(ids(root, "band-")) >= 1


def test_headcount_chart_without_counts_is_still_an_svg(client) -> None:
    root = svg_root(client.get("/teams/headcount.svg"))
    assert ids(root, "step-") == []
    assert "No counts yet." in client.get("/teams/").get_data(as_text=True)
