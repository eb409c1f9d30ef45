"""Lists paged by key (postmortems/pagination.py): walking forward and back while people file,
bad page links, old numbered links, what a reader may see, and the plans the pages use."""

import html as html_lib
import re
from typing import Any

import pytest

from models import ActionType, Incident, IncidentStatus, LessonGroup, Role
from postmortems.guards.service import GUARD_INCIDENTS, protected_incidents
from postmortems.incidents.order import incident_keyset
from postmortems.incidents.parts import ActionItemValues, save_part
from postmortems.incidents.service import list_incidents
from postmortems.pagination import (
    CursorError,
    Position,
    format_key,
    paginate_keyset,
    parse_key,
)
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, utc
from tests.test_scale import counted_queries

# Days the incidents start on: ties on the same start are ordered by id.
DAYS = [1, 2, 2, 3, 3, 3, 4]


def _titles(page_html: str) -> list[str]:
    return re.findall(r'<a href="/incidents/\d+">([^<]+)</a>', page_html)


def _link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"(?: [^>]*)? rel="{rel}"', page_html)
    return html_lib.unescape(found.group(1)) if found else None


def _file(title: str, day: int, **fields: Any) -> Incident:
    return make_incident(title, utc(2024, 1, day, 10), status=IncidentStatus.PUBLISHED, **fields)


@pytest.fixture
def small_pages(app):
    app.config["INCIDENTS_PER_PAGE"] = 3


def test_cursors_read_back_as_the_key_they_were_made_from() -> None:
    for key in [(utc(2024, 1, 2, 3, 4, 5), 42), (None, 7)]:
        assert parse_key(format_key(key)) == key


@pytest.mark.parametrize(
    "cursor", ["", "x", "_", "_x", "2024-13-01T00:00:00.000000Z_5", "2024-01-01_5", "1_" + "9" * 30]
)
def test_a_cursor_that_stands_for_no_key_is_refused(cursor) -> None:
    with pytest.raises(CursorError):
        parse_key(cursor)


def test_walking_forward_then_back_shows_every_postmortem_once_while_one_is_filed(
    small_pages, client, db
) -> None:
    for n, day in enumerate(DAYS):
        _file(f"Incident {n}", day)
    db.commit()
    seen, url = [], "/incidents/"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += _titles(page)
        if len(seen) == 3:  # between the first and the second page, someone files
            _file("Filed meanwhile", 5)
            db.commit()
        url = _link(page, "next")
    assert seen == [f"Incident {n}" for n in reversed(range(len(DAYS)))]
    back, url = [], _link(page, "prev")
    while url:
        page = client.get(url).get_data(as_text=True)
        back = _titles(page) + back
        url = _link(page, "prev")
    assert back == ["Filed meanwhile", *seen[:-1]]  # every one once, in order, the new first


def test_the_count_stays_the_whole_lists_on_every_page(small_pages, client, db) -> None:
    for n, day in enumerate(DAYS):
        _file(f"Incident {n}", day)
    db.commit()
    first = client.get("/incidents/").get_data(as_text=True)
    second = client.get(_link(first, "next")).get_data(as_text=True)
    assert "7 postmortems." in first and "7 postmortems." in second


def test_the_last_link_shows_the_oldest_postmortems(small_pages, client, db) -> None:
    for n, day in enumerate(DAYS):
        _file(f"Incident {n}", day)
    db.commit()
    last = client.get("/incidents/?last=1").get_data(as_text=True)
    assert _titles(last) == ["Incident 2", "Incident 1", "Incident 0"]
    assert _link(last, "next") is None
    before = client.get(_link(last, "prev")).get_data(as_text=True)
    assert _titles(before) == ["Incident 5", "Incident 4", "Incident 3"]


def test_an_old_numbered_link_leads_to_the_same_page_by_key_with_its_filters(
    small_pages, client, db
) -> None:
    for n, day in enumerate(DAYS):
        _file(f"Incident {n}", day)
    db.commit()
    response = client.get("/incidents/?page=2&status=PUBLISHED")
    assert response.status_code == 302
    assert "after=" in response.location and "status=PUBLISHED" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert _titles(page) == ["Incident 3", "Incident 2", "Incident 1"]


@pytest.mark.parametrize(
    "query", ["after=garbage", "before=2024-01-01_5", "last=2", "after=_1&before=_2"]
)
def test_a_bad_page_link_answers_400_with_the_filters_and_a_way_back(client, db, query) -> None:
    _file("Incident", 1)
    db.commit()
    response = client.get(f"/incidents/?severity=SEV2&{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'name="severity"' in page and "This page link is not valid" in page
    assert 'href="/incidents/?severity=SEV2"' in page


def test_a_reader_pages_through_only_what_they_may_see(small_pages, app, db) -> None:
    for n, day in enumerate(DAYS):
        _file(f"Open {n}", day)
        _file(f"Restricted {n}", day, is_restricted=True)
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    seen, url = [], "/incidents/"
    first = client.get(url).get_data(as_text=True)
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += _titles(page)
        url = _link(page, "next")
    assert "7 postmortems." in first and "Restricted" not in first
    assert seen == [f"Open {n}" for n in reversed(range(len(DAYS)))]


def _protect(guard_id: int, incident: Incident) -> None:
    item = ActionItemValues("Check it", LessonGroup.TECHNICAL, ActionType.PREVENTIVE)
    save_part(incident, ActionItemValues(**{**item.__dict__, "guard_ids": (guard_id,)}))


def test_a_readers_guard_page_counts_and_pages_only_what_they_may_see(small_pages, app, db) -> None:
    guard = make_guard()
    for n, day in enumerate(DAYS):
        _protect(guard.id, _file(f"Open {n}", day))
        _protect(guard.id, _file(f"Restricted {n}", day, is_restricted=True))
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    seen, url = [], f"/guards/{guard.id}"
    first = client.get(url).get_data(as_text=True)
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += _titles(page)
        url = _link(page, "next")
    assert "7 postmortems you can see." in first
    keys = [i.key for i in db.scalars(list_incidents(reader)) if i.title.startswith("Open")]
    assert [t.split(" ", 1)[0] for t in seen] == keys


def test_a_bad_cursor_on_a_guard_page_shows_the_first_page_with_a_message(client, db) -> None:
    guard = make_guard()
    _protect(guard.id, _file("Protected", 1))
    db.commit()
    response = client.get(f"/guards/{guard.id}?runs_after=nonsense")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A page link was not valid" in page and "Protected" in page


def test_a_deep_guard_page_runs_the_statements_of_the_first(small_pages, app, client, db) -> None:
    guard = make_guard()
    for n in range(12):
        _protect(guard.id, _file(f"Protected {n}", 1 + n))
    db.commit()
    url = f"/guards/{guard.id}"
    client.get(url)  # the counts are kept from here on
    with counted_queries(app) as first:
        page = client.get(url).get_data(as_text=True)
    deep = _link(client.get(_link(page, "next")).get_data(as_text=True), "next")
    with counted_queries(app) as later:
        assert client.get(deep).status_code == 200
    assert len(first) == len(later)


def _statements_of_a_page(app, db, stmt, keyset) -> list[tuple[str, Any]]:
    """The SQL a page after a key runs, with its parameters."""
    rows = db.scalars(stmt.limit(5)).all()
    captured: list[tuple[str, Any]] = []
    from sqlalchemy import event

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        captured.append((statement, params))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        paginate_keyset(stmt, keyset, Position(after=keyset.key_of(rows[2])), 2, total=5)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return captured[:1]


def _explain(db: Any, statement: str, params: Any) -> str:
    raw = db.connection().connection.driver_connection
    cursor = raw.cursor()
    if db.get_bind().dialect.name == "sqlite":
        cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())
    # Sorting made as dear as possible: a plan that still sorts has no index in that order.
    cursor.execute("SET LOCAL enable_sort = off")
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute(f"EXPLAIN {statement}", params)
    return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("role", [Role.ADMIN, Role.READER])
def test_a_page_after_a_key_reads_a_range_of_the_newest_first_index(app, db, role) -> None:
    for n in range(6):
        _file(f"Incident {n}", 1 + n)
    viewer = make_user(role)
    db.commit()
    stmt = list_incidents(viewer, many=True)
    [(statement, params)] = _statements_of_a_page(app, db, stmt, incident_keyset())
    plan = _explain(db, statement, params)
    if db.get_bind().dialect.name == "sqlite":
        assert "SEARCH incident USING INDEX ix_incident_started_at_id (started_at<?)" in plan
        assert "TEMP B-TREE" not in plan, plan
    else:  # an index in start order, searched from the key (ties on a start sorted apart)
        assert "Index Scan Backward" in plan and "Index Cond: ((started_at <=" in plan, plan
        assert not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), plan


def test_a_guard_page_after_a_key_walks_the_index_without_sorting(app, db) -> None:
    guard = make_guard()
    for n in range(6):
        _protect(guard.id, _file(f"Incident {n}", 1 + n))
    reader = make_user(Role.READER)
    db.commit()
    stmt = protected_incidents(guard, reader, many=True)
    [(statement, params)] = _statements_of_a_page(app, db, stmt, GUARD_INCIDENTS)
    plan = _explain(db, statement, params)
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL orders a guard's few thousand matches itself (nulls last)")
    assert "SEARCH incident USING INDEX ix_incident_started_at_id (started_at<?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
