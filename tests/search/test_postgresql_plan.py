"""On PostgreSQL, a common word's search reads its matches from the GIN index over the stored
vector and ranks only the bounded candidates, for an admin and for a reader."""

from typing import Any

import pytest
from sqlalchemy import event, insert, text

from models import IncidentStatus, Role, SearchDocument
from postmortems.db import session
from postmortems.search import schema
from postmortems.search.service import MAX_COUNTED, search
from tests.conftest import BACKEND, make_user
from tests.factories import make_incident

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="a PostgreSQL query plan")

DOCUMENTS = 8_000
MATCHING = 1_200  # more than the candidates' bound, a small share of the documents
FILLER = 120  # words in each document: real ones are long, so reading every row costs


@pytest.fixture
def many_documents(db):
    incidents = [
        make_incident(f"Incident {n}", status=IncidentStatus.PUBLISHED).id for n in range(10)
    ]
    incidents.append(make_incident("A draft", status=IncidentStatus.DRAFT).id)
    session.commit()  # their own index rows written first: a commit rewrites a changed one's
    session.execute(
        insert(SearchDocument),
        [
            {
                "kind": "lesson",
                "object_id": 1_000_000 + n,
                "incident_id": incidents[n % len(incidents)],
                "title": "",
                "body": ("threshold " if n % (DOCUMENTS // MATCHING) == 0 else "")
                + " ".join(f"w{n}x{k}" for k in range(FILLER)),
            }
            for n in range(DOCUMENTS)
        ],
    )
    session.commit()
    session.execute(text("ANALYZE search_document"))
    session.execute(text("ANALYZE incident"))


def _plan_of_search(viewer: Any, query: str) -> dict[str, Any]:
    """EXPLAIN (ANALYZE) of the statement search() ranks with, as it ran."""
    ran: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        ran.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        results = search(viewer, query)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert results.total > MAX_COUNTED
    statement, parameters = next((s, p) for s, p in ran if "ts_rank" in s)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) " + statement, parameters)
    plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _assert_bounded_plan(plan: dict[str, Any]) -> None:
    nodes = _nodes(plan)
    gin = [n for n in nodes if n.get("Index Name") == schema.POSTGRESQL_INDEX_NAME]
    assert [n["Node Type"] for n in gin] == ["Bitmap Index Scan"]
    assert gin[0]["Actual Rows"] >= MATCHING
    bound = MAX_COUNTED + 1
    for node in nodes:
        if any("ts_rank" in output for output in node.get("Output", [])):
            assert node["Actual Rows"] <= bound, node["Node Type"]
        if node["Node Type"] == "Sort" and node["Actual Rows"] > bound:
            assert node["Sort Method"] == "top-N heapsort"  # keeps the bound, no more


def test_a_common_word_is_found_in_the_gin_index_and_ranked_within_the_bound_for_an_admin(
    many_documents, admin
):
    _assert_bounded_plan(_plan_of_search(admin, "threshold"))


def test_a_common_word_is_found_in_the_gin_index_and_ranked_within_the_bound_for_a_reader(
    many_documents,
):
    reader = make_user(Role.READER, "reader@example.com")
    session.commit()
    _assert_bounded_plan(_plan_of_search(reader, "threshold"))
