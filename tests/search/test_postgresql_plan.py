"""On PostgreSQL, a common word's search reads its newest matches from the GIN index over the
stored vector, one window of recency buckets at a time (never every match, never the table
newest first), and ranks only the bounded candidates, for an admin and for a reader; the
results are those of the plain query (the newest visible matches, ranked)."""

from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from models import IncidentStatus, Role, SearchDocument
from postmortems.db import session
from postmortems.search import schema
from postmortems.search.service import MAX_COUNTED, NO_FILTERS, candidates, search
from postmortems.search.text import parse_query
from tests.conftest import BACKEND, make_user
from tests.factories import make_incident

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="a PostgreSQL query plan")

DOCUMENTS = 8_000
MATCHING = 4_000  # four times the candidates' bound: a common word
FILLER = 120  # words in each document: real ones are long, so reading every row costs
FIRST_ID = 1_000_000
ID_STEP = 8  # ids spread over 16 recency buckets of 4,096, about 250 matches in each


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
                "id": FIRST_ID + n * ID_STEP,
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


def _plans_of_search(viewer: Any, query: str) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE) of each statement search() matched words with, as it ran."""
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
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    plans = []
    for statement, parameters in ran:
        if "@@" in statement:
            cursor.execute("EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) " + statement, parameters)
            plans.append(cursor.fetchone()[0][0]["Plan"])
    return plans


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _assert_bounded_plans(plans: list[dict[str, Any]]) -> None:
    bound = MAX_COUNTED + 1
    read = ranked = 0
    for plan in plans:
        nodes = _nodes(plan)
        gin = [n for n in nodes if n.get("Index Name") == schema.POSTGRESQL_INDEX_NAME]
        assert [n["Node Type"] for n in gin] == ["Bitmap Index Scan"]
        documents = [n for n in nodes if n.get("Relation Name") == "search_document"]
        assert [n["Node Type"] for n in documents] == ["Bitmap Heap Scan"]
        read += gin[0]["Actual Rows"]
        for node in nodes:
            if any("ts_rank" in output for output in node.get("Output", [])):
                ranked += node["Actual Rows"]
    assert len(plans) >= 2  # the newest buckets first, then older ones
    assert read < MATCHING  # the word's newest matches, not all of them
    assert read <= 3 * bound
    assert ranked <= bound


def _expected(viewer_sql: str) -> list[int]:
    """The plain query's first page: the newest visible matches, best rank first."""
    return list(
        session.scalars(
            text(
                "SELECT doc_id FROM (SELECT d.id AS doc_id, d.search_vector AS v "
                "FROM search_document d LEFT JOIN incident i ON i.id = d.incident_id "
                f"WHERE d.search_vector @@ to_tsquery('simple', 'threshold') AND ({viewer_sql}) "
                f"ORDER BY d.id DESC LIMIT {MAX_COUNTED + 1}) c "
                "ORDER BY -ts_rank(v, to_tsquery('simple', 'threshold')), doc_id LIMIT 20"
            )
        )
    )


def _shown(viewer: Any) -> list[int]:
    """The first page as search() ranks it (the lessons here have no rows to show as hits)."""
    found = candidates(viewer, parse_query("threshold"), NO_FILTERS).subquery()
    ranked = select(found.c.doc_id).order_by(found.c.score, found.c.doc_id).limit(20)
    return list(session.scalars(ranked))


def test_a_common_word_is_found_in_the_gin_index_and_ranked_within_the_bound_for_an_admin(
    many_documents, admin
):
    _assert_bounded_plans(_plans_of_search(admin, "threshold"))


def test_a_common_word_is_found_in_the_gin_index_and_ranked_within_the_bound_for_a_reader(
    many_documents,
):
    reader = make_user(Role.READER, "reader@example.com")
    session.commit()
    _assert_bounded_plans(_plans_of_search(reader, "threshold"))


def test_the_windows_find_the_plain_querys_results_for_an_admin_and_a_reader(many_documents, admin):
    reader = make_user(Role.READER, "reader@example.com")
    session.commit()
    assert _shown(admin) == _expected("true")
    visible = "d.incident_id IS NULL OR i.status IN ('PUBLISHED', 'ARCHIVED')"
    assert _shown(reader) == _expected(visible)
    assert _shown(reader) != _shown(admin)  # the draft's lessons are left out
