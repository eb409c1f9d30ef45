"""The API's rate limits: per token, per address, and bad-token calls per address (lower),
counted in the database so that every worker shares them; over one, 429 with Retry-After."""

import time
from typing import Any

import pytest
from flask import Flask

from models import Role, utcnow
from tests.api.helpers import Api, token_for
from tests.conftest import make_user, new_app

HOME, AWAY = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "API_REQUESTS_PER_MINUTE_PER_TOKEN": 3,
        "API_REQUESTS_PER_MINUTE_PER_ADDRESS": 5,
        "API_FAILED_AUTH_PER_MINUTE_PER_ADDRESS": 2,
    }


@pytest.fixture(autouse=True)
def within_one_minute() -> None:
    """Counts start afresh each minute: start a test with time left in this one, so that all of
    its calls fall in one window."""
    second = utcnow().second
    if second >= 50:
        time.sleep(61 - second)


def api(app: Flask, token: str | None, address: str = HOME) -> Api:
    client = Api(app, token)
    client.client.environ_base["REMOTE_ADDR"] = address
    return client


def statuses(client: Api, calls: int) -> list[int]:
    return [client.get("/api/v1/taxonomy").status_code for _ in range(calls)]


def new_token(db) -> str:
    return token_for(make_user(Role.READER))


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["error"] == "too_many_requests"


def test_a_token_over_its_limit_gets_429_with_retry_after(app, db) -> None:
    client = api(app, new_token(db))
    assert statuses(client, 3) == [200, 200, 200]
    assert_rate_limited(client.get("/api/v1/taxonomy"))


def test_another_token_from_the_same_address_keeps_its_own_count(app, db) -> None:
    statuses(api(app, new_token(db)), 4)
    assert statuses(api(app, new_token(db)), 1) == [200]


def test_an_address_over_its_limit_gets_429_whatever_the_token(app, db) -> None:
    tokens = [new_token(db) for _ in range(3)]
    assert statuses(api(app, tokens[0]), 3) + statuses(api(app, tokens[1]), 2) == [200] * 5
    assert_rate_limited(api(app, tokens[2]).get("/api/v1/taxonomy"))
    assert statuses(api(app, tokens[2], AWAY), 1) == [200]


def test_bad_token_calls_are_refused_after_the_lower_failure_limit(app, db) -> None:
    guesser = api(app, "pmt_guess")
    assert statuses(guesser, 2) == [401, 401]
    assert_rate_limited(guesser.get("/api/v1/taxonomy"))


def test_an_address_over_the_failure_limit_is_refused_even_with_a_good_token(app, db) -> None:
    statuses(api(app, "pmt_guess"), 2)
    token = new_token(db)
    assert_rate_limited(api(app, token).get("/api/v1/taxonomy"))
    assert statuses(api(app, token, AWAY), 1) == [200]


def test_calls_without_a_token_count_as_failures(app, db) -> None:
    assert statuses(api(app, None), 2) == [401, 401]
    assert_rate_limited(api(app, None).get("/api/v1/taxonomy"))


def test_the_public_document_counts_against_the_address(app, db) -> None:
    anonymous = api(app, None)
    for _ in range(5):
        assert anonymous.get("/api/v1/openapi.json").status_code == 200
    assert_rate_limited(anonymous.get("/api/v1/openapi.json"))


def test_two_app_processes_on_one_database_share_the_limit(app, app_config, db) -> None:
    token = new_token(db)
    other = new_app(app_config)  # a second gunicorn worker
    try:
        here, there = api(app, token), api(other, token)
        answers = [c.get("/api/v1/taxonomy").status_code for c in (here, there, here)]
        assert answers == [200, 200, 200]
        assert_rate_limited(there.get("/api/v1/taxonomy"))
    finally:
        other.extensions["db_engine"].dispose()


class TestLimitsOff:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {
            **app_config,
            "API_REQUESTS_PER_MINUTE_PER_TOKEN": 0,
            "API_REQUESTS_PER_MINUTE_PER_ADDRESS": 0,
        }

    def test_a_limit_of_zero_counts_nothing(self, app, db) -> None:
        assert statuses(api(app, new_token(db)), 8) == [200] * 8
