"""Every URL a signed-in user can type, with huge ids and hostile query values: never a 500."""

import pytest
from flask import Flask
from werkzeug.routing import Rule

from models import IncidentStatus
from tests.factories import make_guard, make_incident, make_team

HUGE_IDS = [2**31, 2**63, 10**30]
# Values typed into the query string by hand, or by a scanner.
HOSTILE_VALUES = [
    "9999",
    "0",
    "-1",
    "1e9",
    "99999999999999999999999999",
    "NaN",
    "\x00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%",
    "",
    "ё" * 300,
]
QUERY_NAMES = [
    "year",
    "page",
    "status",
    "severity",
    "category",
    "factor",
    "team",
    "stage",
    "tag",
    "a",
    "b",
    "next",
    "q",
]


def _get_rules(app: Flask, api: bool = False) -> list[Rule]:
    """The pages' GET rules; with `api`, the JSON API's instead (it takes a token, not the
    cookie: tests/api/test_openapi.py sends these with one)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.endpoint != "static"
        and rule.endpoint.startswith("api.") == api
    ]


def _url(app: Flask, rule: Rule, number: int) -> str:
    """The rule's URL with every number set to `number` and every choice to its first option."""
    values: dict[str, object] = {}
    for name, converter in rule._converters.items():
        options = getattr(converter, "items", None)  # `any(...)` converters
        values[name] = sorted(options)[0] if options else number
    with app.test_request_context():
        return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


@pytest.fixture
def world(db) -> dict[str, int]:
    """One of each kind of row, so that id 1 exists wherever the URL map asks for an id."""
    team = make_team("Platform")
    incident = make_incident("Queue stalled", team_id=team.id, status=IncidentStatus.PUBLISHED)
    guard = make_guard()
    db.commit()
    return {"incident": incident.id, "guard": guard.id, "team": team.id}


def test_huge_ids_in_every_url_answer_404(app, client, world) -> None:
    for rule in _get_rules(app):
        if not rule.arguments:
            continue
        for number in HUGE_IDS:
            url = _url(app, rule, number)
            assert client.get(url).status_code == 404, url


def test_hostile_query_values_on_every_page_never_give_a_500(app, client, world) -> None:
    for rule in _get_rules(app):
        url = _url(app, rule, 1)
        for name in QUERY_NAMES:
            for value in HOSTILE_VALUES:
                response = client.get(url, query_string={name: value})
                assert response.status_code < 500, (url, name, value, response.status_code)


def test_a_year_outside_the_stored_range_is_a_400_with_a_message(client, world) -> None:
    response = client.get("/incidents/?year=9999")
    assert response.status_code == 400
    assert "Number must be between 1970 and 2100." in response.get_data(as_text=True)
