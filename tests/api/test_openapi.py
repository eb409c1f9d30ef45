"""The OpenAPI document covers every API route and nothing else; errors on API paths are JSON;
the reference page is rendered from the document."""

import re

import pytest
from jsonschema import Draft202012Validator

from models import Role
from postmortems.api.openapi import openapi_document
from tests.api.helpers import Api, user_with_token


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
    }


def _routed(app) -> set[tuple[str, str]]:
    """Every (method, path) of the API blueprint, with `any(...)` converters spelled out."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        paths = [rule.rule]
        for name, converter in rule._converters.items():
            options = getattr(converter, "items", None)
            pattern = re.compile(rf"<[^>]*:{name}>|<{name}>")
            if options:
                paths = [pattern.sub(o, p) for p in paths for o in sorted(options)]
            else:
                paths = [pattern.sub(f"{{{name}}}", p) for p in paths]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.update((method, path) for path in paths)
    return routes


def test_the_document_covers_every_api_route_and_no_other(app) -> None:
    assert _routed(app) == _documented()


def test_the_document_is_served_and_its_schemas_are_valid_json_schema(app, anonymous) -> None:
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_reference_page_lists_every_path_and_schema(anonymous) -> None:
    html = anonymous.get("/api/v1/").get_data(as_text=True)
    for method, path in _documented():
        assert f"{method} {path}" in html
    for name in openapi_document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "cdn" not in html.lower() and "<script>" not in html


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/api/v1/postmortems/PM-1999-999", 404),
        ("GET", "/api/v1/guards/99999", 404),
        ("GET", "/api/v1/guards/99999999999999", 404),
        ("DELETE", "/api/v1/postmortems", 405),
        ("GET", "/api/v1/reports/quarterly/2020Q9", 404),
        ("GET", "/api/v1/reports/trends?from=yesterday", 400),
    ],
)
def test_errors_on_api_paths_are_json(app, db, method, path, status) -> None:
    _, token = user_with_token(Role.ADMIN)
    response = Api(app, token).client.open(
        path, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"error", "message", "fields"}


@pytest.fixture
def small_limit(app_config):
    app_config["MAX_CONTENT_LENGTH"] = 1000


def test_a_body_over_the_limit_gets_413_in_json(small_limit, app, db) -> None:
    _, token = user_with_token(Role.AUTHOR)
    body = {"title": "x", "started_at": "2024-01-01T00:00:00Z", "analysis_md": "y" * 5000}
    response = Api(app, token).post("/api/v1/postmortems", body)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"


def test_reports_give_the_same_payload_as_the_report_pages(app, db, client) -> None:
    _, token = user_with_token(Role.READER)
    api = Api(app, token)
    for api_path, page_path in [
        (
            "/api/v1/reports/trends?from=2020-01-01&to=2022-12-31",
            "/reports/trends.json?from=2020-01-01&to=2022-12-31",
        ),
        ("/api/v1/reports/quarterly/2020Q4", "/reports/quarterly/2020Q4.json"),
    ]:
        ours, theirs = api.get(api_path).get_json(), client.get(page_path).get_json()
        ours.pop("computed_at", None), theirs.pop("computed_at", None)
        assert ours == theirs


def test_reference_data_answers_fit_the_document(app, db) -> None:
    from datetime import date

    from tests.factories import make_guard, make_stage, make_team

    team = make_team("Platform", [(date(2020, 1, 1), 8), (date(2021, 1, 1), 12)])
    make_stage("Founding", 0, 10)
    guard = make_guard("Smoke")
    _, token = user_with_token(Role.READER)
    api = Api(app, token)
    assert len(api.get("/api/v1/taxonomy").get_json()["categories"]) == 4
    assert api.get("/api/v1/teams").get_json()["items"][0]["snapshots"][1]["headcount"] == 12
    assert api.get(f"/api/v1/teams/{team.id}").get_json()["name"] == "Platform"
    assert api.get("/api/v1/growth-stages").get_json()["items"][0]["max_headcount"] == 10
    assert api.get("/api/v1/guards").get_json()["items"][0]["name"] == "Smoke"
    assert api.get(f"/api/v1/guards/{guard.id}").get_json()["postmortems"] == []


def test_hostile_ids_and_query_values_on_every_api_route_never_give_a_500(app, db) -> None:
    from tests.test_hostile_urls import HOSTILE_VALUES, HUGE_IDS, QUERY_NAMES, _get_rules, _url

    _, token = user_with_token(Role.ADMIN)
    api = Api(app, token)
    for rule in _get_rules(app, api=True):
        if rule.arguments - {"quarter"}:
            for number in HUGE_IDS:
                url = _url(app, rule, number)
                assert api.client.get(url, headers=api_headers(token)).status_code == 404, url
        url = _url(app, rule, 1)
        for name in QUERY_NAMES:
            for value in HOSTILE_VALUES:
                response = api.client.get(
                    url, query_string={name: value}, headers=api_headers(token)
                )
                assert response.status_code < 500, (url, name, value)
                assert response.mimetype in ("application/json", "text/html"), url


def api_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
