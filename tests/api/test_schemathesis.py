"""A bounded Schemathesis run against the OpenAPI document, in process against the app and a
real database: generated requests to every operation must never get a 5xx, and every answer
must keep to the document (status, content type, headers, schema)."""

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models import IncidentStatus, Role
from postmortems.api.openapi import openapi_document
from tests.api.helpers import token_for
from tests.auth.world import with_parts
from tests.conftest import make_user
from tests.factories import make_guard, make_incident, make_stage, make_team, utc

# Enough to reach past the happy path of each operation, bounded to well under a minute.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_token(app) -> str:
    """An admin's token, with a little of everything to find. Made in a context of its own:
    each generated request must run in its own app context, as in production."""
    with app.app_context():
        team = make_team("ML", [(date(2020, 1, 1), 8)])
        make_stage("Founding", 0, 10)
        with_parts(
            make_incident(
                "Scores went flat", utc(2020, 8, 10), team=team, status=IncidentStatus.PUBLISHED
            ),
            make_guard("Result unchanged test"),
        )
        return token_for(make_user(Role.ADMIN))


# The document as the app serves it (a test checks they are the same); loaded from the code
# rather than through a fixture, whose lazy loading Schemathesis 4 does not support on pytest 9.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case, app, api_token) -> None:
    headers = {"Authorization": f"Bearer {api_token}"}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)


def test_the_app_serves_the_document_the_run_used(anonymous) -> None:
    assert anonymous.get("/api/v1/openapi.json").get_json() == openapi_document()
