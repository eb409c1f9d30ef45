"""Every chart draws any name as the text it is: matplotlib's mathtext ($…$) and TeX are off,
so a stage, team or factor named with dollars, backslashes, braces, percent signs, right-to-left
script or at full length answers 200 with valid SVG that shows the name."""

import xml.etree.ElementTree as ET
from datetime import date
from html import escape

import pytest
from sqlalchemy import select

from models import CauseCategory, ContributingFactor, IncidentFactor, Team
from tests.factories import make_incident, make_stage, make_team, utc

HOSTILE = [
    r"Scale $\frac{1}{$ up",
    "$x^2$ and $y$",
    "back\\slash \\n \\\\",
    "100% {braces} }{",
    "שלב הצמיחה والنمو",
    "L" + "o" * 117 + "ng",  # 120 characters, the longest a name may be
]


@pytest.fixture(params=HOSTILE, ids=range(len(HOSTILE)))
def hostile(request, db) -> str:
    """A stage, a team and a factor with the name, and an incident of that team inside it."""
    name = request.param
    team = make_team(name, [(date(2020, 1, 1), 4), (date(2021, 1, 1), 30)])
    make_stage(name, 0, 10)
    make_stage("Grown", 11, None)
    factor = ContributingFactor(category=CauseCategory.CHANCE, name=name)
    db.add(factor)
    incident = make_incident(name, utc(2020, 6, 1, 9), team_id=team.id)
    db.add(IncidentFactor(incident_id=incident.id, factor_id=factor.id))
    db.commit()
    return name


def svg_text(response) -> str:
    """The text of a valid SVG answer."""
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return "".join(root.itertext())


def test_the_headcount_chart_draws_a_hostile_stage_name_as_it_is(client, hostile) -> None:
    assert hostile in svg_text(client.get("/teams/headcount.svg"))


def test_the_trend_chart_draws_a_hostile_stage_name_as_it_is(client, hostile) -> None:
    """In the chart's key, cut with an ellipsis where it is wider than a phone; whole on the
    page."""
    text = svg_text(client.get("/reports/trends.svg?from=2019-01-01&to=2021-12-31"))
    assert hostile in text or (hostile[:20] in text and "…" in text)
    assert "Grown" in text
    page = client.get("/reports/trends?from=2019-01-01&to=2021-12-31").get_data(as_text=True)
    assert escape(hostile) in page


def test_the_trend_chart_of_a_team_with_a_hostile_name_answers(client, hostile, db) -> None:
    team_id = db.scalar(select(Team.id).where(Team.name == hostile))
    svg_text(client.get(f"/reports/trends.svg?from=2020-01-01&to=2021-12-31&team={team_id}"))
