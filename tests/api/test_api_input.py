"""What the API refuses, and that the OpenAPI document says so: a body not sent as JSON, an
empty report parameter, `to` before `from`."""

from models import Role
from tests.api.helpers import Api, user_with_token


def test_a_body_without_the_json_content_type_is_refused_with_415(app, db) -> None:
    api = Api(app, user_with_token(Role.AUTHOR)[1])
    response = api.post(
        "/api/v1/postmortems",
        data='{"title": "Scores went flat", "started_at": "2020-08-10T09:00:00Z"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert list(response.get_json()["fields"]) == ["Content-Type"]


def test_an_empty_report_parameter_is_refused_naming_it(app, db) -> None:
    api = Api(app, user_with_token(Role.ADMIN)[1])
    response = api.get("/api/v1/reports/trends?from=2020-01-01&to=")
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["to"]


def test_to_before_from_is_refused_with_a_400_naming_to(app, db) -> None:
    api = Api(app, user_with_token(Role.ADMIN)[1])
    response = api.get("/api/v1/reports/trends?from=2021-01-01&to=2020-12-31")
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"to": ["Cannot be before the start."]}


def test_a_quarterly_page_that_is_not_a_number_is_refused_naming_it(app, db) -> None:
    api = Api(app, user_with_token(Role.ADMIN)[1])
    response = api.get("/api/v1/reports/quarterly/2020Q4?page=two")
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["page"]
