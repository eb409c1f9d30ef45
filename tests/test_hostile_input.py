"""No input reaches a 500: every form on every page gets hostile values in every field."""

import re
from datetime import date

import pytest

from models import (
    ActionItem,
    ActionType,
    ImpactEstimate,
    ImpactKind,
    IncidentFactor,
    Lesson,
    LessonGroup,
    TimelineEvent,
)
from tests.factories import factor_named, make_guard, make_incident, make_stage, make_team, utc

HOSTILE_VALUES = [
    "\x00",
    "a\x00b",
    "9" * 40,
    "-" + "9" * 40,
    "1e309",
    "x" * 5000,
    "0001-01-01",
    "9999-12-31T23:59",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\u0000\ud7ff",
    "",
]


@pytest.fixture
def form_urls(db) -> list[str]:
    team = make_team("ML", [(date(2020, 8, 1), 8)])
    stage = make_stage("Founding", 0, 10)
    guard = make_guard("Monitor")
    incident = make_incident("Target", utc(2020, 8, 17), team=team)
    incident.timeline.append(TimelineEvent(at=utc(2020, 8, 17), text_md="x"))
    incident.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    incident.impacts.append(ImpactEstimate(kind=ImpactKind.DOWNTIME, unit="h"))
    incident.lessons.append(Lesson(group=LessonGroup.TECHNICAL, text_md="x"))
    incident.action_items.append(
        ActionItem(
            title="x", group=LessonGroup.TECHNICAL, type=ActionType.PREVENTIVE, guards=[guard]
        )
    )
    db.commit()
    base = f"/incidents/{incident.id}"
    urls = [
        "/incidents/new",
        f"{base}/edit",
        "/guards/new",
        f"/guards/{guard.id}/edit",
        "/teams/new",
        f"/teams/{team.id}",
        f"/teams/{team.id}/edit",
        "/teams/stages/new",
        f"/teams/stages/{stage.id}/edit",
        "/taxonomy/factors/new",
        f"/taxonomy/factors/{factor_named('Fatigue').id}/edit",
    ]
    for name in ("timeline", "factors", "impacts", "lessons", "actions"):
        urls += [f"{base}/{name}/new", f"{base}/{name}/1/edit"]
    return urls


def field_names(html: str) -> set[str]:
    form = html.split('<form method="post" class="form"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'name="([^"]+)"', form)) - {"csrf_token"}


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_every_form_answers_hostile_input_without_a_server_error(browser, form_urls, value):
    for url in form_urls:
        names = field_names(browser.get(url).get_data(as_text=True))
        response = browser.submit(url, dict.fromkeys(names, value))
        assert response.status_code < 500, (url, value)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_the_list_filters_answer_hostile_input_without_a_server_error(client, value):
    names = ["status", "severity", "category", "factor", "team", "stage", "year", "tag", "page"]
    response = client.get("/incidents/", query_string=dict.fromkeys(names, value))
    assert response.status_code in (200, 400)
