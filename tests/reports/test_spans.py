"""Reports over any span the app accepts: drafts dated 1970 or 2100, 130-year trend ranges,
every quarter the route takes; no SQL statement grows with the number of months."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, event

from models import FigurePiece, Role
from tests.api.helpers import Api, user_with_token
from tests.factories import make_incident, utc


@pytest.fixture
def api(app, db) -> Api:
    _, token = user_with_token(Role.AUTHOR)
    return Api(app, token)


@pytest.fixture
def old_draft(api) -> None:
    """The repro: an author files a draft dated 1970 through the API."""
    body = {"title": "old draft", "started_at": "1970-01-02T00:00:00Z"}
    assert api.post("/api/v1/postmortems", body).status_code == 201


@pytest.fixture
def far_drafts(db) -> None:
    """A draft at each end of the days the app accepts, and one of today's era between."""
    make_incident("first", utc(1970, 1, 2, 0))
    make_incident("middle", utc(2024, 5, 1, 12), is_near_miss=True)
    make_incident("last", utc(2100, 12, 30, 12))
    db.commit()


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """The SQL text of every statement the app sends while the block runs."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        sent.append(text)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def cold(app) -> None:
    """Throw away every kept figure, as in a worker that has just started on a database with
    no pieces stored yet."""
    app.extensions.get("figure_pieces", {}).clear()
    app.extensions.get("figure_cache", {}).clear()
    with app.extensions["db_engine"].begin() as connection:
        connection.execute(delete(FigurePiece))


@pytest.mark.parametrize("suffix", ["", ".json", ".md", ".pdf"])
def test_the_quarterly_review_answers_after_a_draft_dated_1970(client, old_draft, suffix) -> None:
    assert client.get(f"/reports/quarterly/2024Q2{suffix}").status_code == 200


def test_the_quarterly_review_api_answers_after_a_draft_dated_1970(api, old_draft) -> None:
    assert api.get("/api/v1/reports/quarterly/2024Q2").status_code == 200


def test_a_trend_over_every_day_the_app_accepts_counts_both_ends(client, far_drafts) -> None:
    response = client.get("/reports/trends.json?from=1970-01-02&to=2100-12-30&near_misses=1")
    assert response.status_code == 200
    data = response.get_json()
    assert data["overall"]["incidents"] == 2 and data["overall"]["near_misses"] == 1
    assert len(data["quarters"]) == 131 * 4
    assert data["quarters"][0]["incidents"] == 1 and data["quarters"][-1]["incidents"] == 1


@pytest.mark.parametrize("quarter", ["1970Q1", "2024Q2", "2076Q1", "2100Q4"])
def test_every_quarter_the_route_accepts_answers_with_drafts_at_both_ends(
    client, far_drafts, quarter
) -> None:
    assert client.get(f"/reports/quarterly/{quarter}.json").status_code == 200


@pytest.mark.parametrize("quarter", ["0001Q1", "1969Q4", "2101Q1", "9999Q4"])
def test_a_quarter_out_of_the_supported_years_is_a_404_that_says_which(client, quarter) -> None:
    response = client.get(f"/reports/quarterly/{quarter}")
    assert response.status_code == 404
    assert "Choose a year from 1970 to 2100." in response.get_data(as_text=True)


def test_a_trend_report_sends_the_same_statements_for_one_year_and_131(
    app, client, far_drafts
) -> None:
    """Cold, so that every month is computed: the statements do not grow with the span."""
    lengths = []
    for query in ("from=2024-01-01&to=2024-12-31", "from=1970-01-02&to=2100-12-30"):
        cold(app)
        with statements(app) as sent:
            assert client.get(f"/reports/trends.json?{query}").status_code == 200
        lengths.append(sorted(len(text) for text in sent))
    assert lengths[0] == lengths[1]


def test_a_quarterly_review_sends_the_same_statements_whatever_the_first_incident(
    app, client, db
) -> None:
    make_incident("recent", utc(2024, 5, 1, 12))
    db.commit()
    lengths = []
    for first in (utc(2024, 4, 2), utc(1970, 1, 2)):
        make_incident("earliest", first)
        db.commit()
        cold(app)
        with statements(app) as sent:
            assert client.get("/reports/quarterly/2024Q2.json").status_code == 200
        lengths.append(sorted(len(text) for text in sent))
    assert lengths[0] == lengths[1]
