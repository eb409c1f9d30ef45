"""Search over postmortems, lessons, action items and guard checks.

`search(viewer, query, filters, page)` returns SearchResults, shared by the HTML page and the
JSON of /search.json (and the API). The query the database sees is built from our own list of
stems, each quoted, never from what was typed: whatever the text, it cannot be a syntax error.
"""

import dataclasses
import html
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    Select,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)

from models import Incident, SearchDocument, User
from postmortems.auth.access import sees_everything, visible_incidents
from postmortems.db import session
from postmortems.incidents.service import IncidentFilters, filter_conditions
from postmortems.pagination import clamp_page, page_count, page_offset
from postmortems.search import index, schema
from postmortems.search.text import Query, parse_query, stem, words

PER_PAGE = 20
# Results counted at most: "more than 1,000" says enough, and counting every match of a
# common word among 100,000 postmortems would cost more than the page itself.
MAX_COUNTED = 1000
SNIPPET_WORDS = 28
# Up to this many incidents chosen by the filters, SQLite checks matches against their
# documents' ids; past it, against the incidents' ids (measured at 100,000 postmortems: the
# first is 2-3 times faster for 5,000 chosen, 2-3 times slower for 15,000).
FEW_CHOSEN = 8000
KIND_LABELS = {
    index.INCIDENT: "Postmortem",
    index.LESSON: "Lesson",
    index.ACTION: "Action item",
    index.GUARD: "Guard check",
}
KINDS = tuple(KIND_LABELS)
SPACES = re.compile(r"\s+")

search_fts = table("search_fts", column("rowid"))


@dataclass(frozen=True)
class Hit:
    """One result: what it is, where it belongs, and its words around the match."""

    kind: str
    object_id: int
    incident_id: int | None
    incident_key: str | None
    title: Markup  # escaped, matches marked
    snippet: Markup

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[Hit]
    page: int
    per_page: int
    total: int  # counted up to MAX_COUNTED + 1
    message: str | None = None  # why nothing was searched, or that the query was shortened
    kind: str | None = None

    @property
    def total_is_capped(self) -> bool:
        return self.total > MAX_COUNTED

    @property
    def pages(self) -> int:
        return page_count(min(self.total, MAX_COUNTED), self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "page": self.page,
            "per_page": self.per_page,
            "total": min(self.total, MAX_COUNTED),
            "total_is_capped": self.total_is_capped,
            "message": self.message,
            "results": [
                {
                    "kind": hit.kind,
                    "id": hit.object_id,
                    "incident_id": hit.incident_id,
                    "incident_key": hit.incident_key,
                    "title_html": str(hit.title),
                    "snippet_html": str(hit.snippet),
                }
                for hit in self.hits
            ],
        }


NO_FILTERS = IncidentFilters()
NO_WORDS = "Type one or more words to search for."
SHORTENED = "The query was long: only its first words were searched for."


def search(
    viewer: User,
    query: str,
    filters: IncidentFilters = NO_FILTERS,
    page: int = 1,
    *,
    kind: str | None = None,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """The results `viewer` may see for `query`, best first, one page of them."""
    parsed = parse_query(query)
    if not parsed:
        return SearchResults(query, [], 1, per_page, 0, NO_WORDS, kind)
    message = SHORTENED if parsed.shortened else None
    found = candidates(viewer, parsed, filters, kind).subquery()
    # Ranked in the database, with the number of candidates beside each row: one page of
    # rows comes back, not every candidate.
    ranked = select(found.c.doc_id, func.count().over().label("total")).order_by(
        found.c.score, found.c.doc_id
    )
    page = max(1, page)
    rows = session.execute(ranked.limit(per_page).offset(page_offset(page, per_page))).all()
    if rows:
        total = rows[0].total
    else:  # nothing matched, or a page past the last: count, and show the last page
        total = session.scalar(select(func.count()).select_from(found)) or 0
        clamped = clamp_page(page, min(total, MAX_COUNTED), per_page)
        if total and clamped < page:
            offset = page_offset(clamped, per_page)
            rows = session.execute(ranked.limit(per_page).offset(offset)).all()
        page = clamped
    shown = [row.doc_id for row in rows]
    doc = SearchDocument
    documents = {
        row.id: row
        for row in session.execute(
            select(doc.id, doc.kind, doc.object_id, doc.incident_id).where(doc.id.in_(shown))
        )
    }
    hits = _hits([documents[doc_id] for doc_id in shown if doc_id in documents], parsed)
    return SearchResults(query, hits, page, per_page, total, message, kind)


def candidates(
    viewer: User, query: Query, filters: IncidentFilters, kind: str | None = None
) -> Select[float, int]:
    """(score, doc_id) of the matching documents `viewer` may see, lower scores better.

    At most MAX_COUNTED + 1 of them, the most recently indexed: ranking every match of a
    common word among 100,000 postmortems (bm25 or ts_rank of each) would cost several times
    the whole page, and a query that matches more than a thousand documents is better
    narrowed by another word or a filter than paged through. Both databases take the same
    candidates, so they rank the same set.
    """
    doc = SearchDocument
    if session.get_bind().dialect.name == "sqlite":
        score: Any = literal_column("bm25(search_fts, 4.0, 1.0)")
        stmt = (
            select(score.label("score"), doc.id.label("doc_id"))
            .select_from(search_fts)
            .join(doc, doc.id == literal_column("search_fts.rowid"))
            .where(text("search_fts MATCH :fts_query").bindparams(fts_query=fts5_query(query)))
            .order_by(literal_column("search_fts.rowid").desc())
        )
    else:
        vector: Any = literal_column(schema.POSTGRESQL_QUERY_VECTOR)
        tsquery = func.to_tsquery("simple", tsquery_text(query))
        # The stored vector comes out beside each candidate; ts_rank reads it only for the
        # bounded candidates (below), never for every match found in the GIN index.
        stmt = (
            select(vector.label("vector"), doc.id.label("doc_id"))
            .where(vector.bool_op("@@")(tsquery))
            .order_by(doc.id.desc())
        )
    if not sees_everything(viewer):  # no visibility join when it would let every row through
        stmt = stmt.outerjoin(Incident, Incident.id == doc.incident_id).where(
            or_(doc.incident_id.is_(None), visible_incidents(viewer))
        )
    if kind is not None:
        stmt = stmt.where(doc.kind == kind)
    if filters != NO_FILTERS:
        ids = chosen(filters)
        stmt = stmt.where(doc.incident_id.is_not(None), doc.incident_id.in_(ids))
        if session.get_bind().dialect.name == "sqlite" and _few(ids):
            # A narrow filter (one severity of five) under a common word: rather than look up
            # every match's document to find the few chosen, check each match against the
            # chosen incidents' document ids (read from the incident_id index). The `+`
            # keeps SQLite from asking FTS5 for each of those rows, which is far slower.
            documents = select(doc.id).where(doc.incident_id.in_(ids))
            stmt = stmt.where(literal_column("+search_fts.rowid").in_(documents))
    if session.get_bind().dialect.name == "sqlite":
        return stmt.limit(MAX_COUNTED + 1)
    bounded = stmt.limit(MAX_COUNTED + 1).subquery()
    rank = func.ts_rank(bounded.c.vector, tsquery)
    return select((-rank).label("score"), bounded.c.doc_id)


def _few(ids: Select[Any]) -> bool:
    """Whether the filters choose at most FEW_CHOSEN incidents (counted no further)."""
    capped = ids.limit(FEW_CHOSEN + 1).subquery()
    return (session.scalar(select(func.count()).select_from(capped)) or 0) <= FEW_CHOSEN


def chosen(filters: IncidentFilters) -> Select[Any]:
    """The ids of the incidents `filters` choose, for `incident_id IN (…)`: read once through
    the filters' own indexes. Whether a postmortem is an external reference is asked of the
    (source, external id) index, not of each chosen incident's row: those rows are large, and
    reading thousands of them cost more than the search (a severity filter took 300 ms)."""
    # Who may see what is asked of each match by candidates() (through auth.access): here
    # only the filters count, so the chosen ids come from the filters' indexes without
    # reading any incident's row.
    conditions = filter_conditions(dataclasses.replace(filters, external=None))
    ids: Select[Any] = select(Incident.id).where(*conditions)
    if filters.external is None:
        return ids
    external = select(Incident.id).where(Incident.source_collection.is_not(None))
    return ids.where(
        Incident.id.in_(external) if filters.external else Incident.id.not_in(external)
    )


def fts5_query(query: Query) -> str:
    """Every stem as an FTS5 string (stems are letters and digits only: nothing to escape),
    the last one a prefix while the person may still be typing."""
    terms = [f'"{s}"' for s in query.stems]
    if query.prefix_last:
        terms[-1] += "*"
    return " ".join(terms)


def tsquery_text(query: Query) -> str:
    """The same for PostgreSQL's to_tsquery: every stem quoted, all required."""
    terms = [f"'{s}'" for s in query.stems]
    if query.prefix_last:
        terms[-1] += ":*"
    return " & ".join(terms)


def _hits(rows: list[Any], query: Query) -> list[Hit]:
    """The page's rows with their words: loaded again from their own tables, a query per kind."""
    conn = session.connection()
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row.object_id)
    documents = {
        (d.kind, d.object_id): d
        for kind, ids in by_kind.items()
        for d in index.documents_of(conn, kind, ids)
    }
    incident_ids = {row.incident_id for row in rows if row.incident_id is not None}
    keys = dict(
        session.execute(
            select(Incident.id, Incident.key).where(Incident.id.in_(incident_ids))
        ).all()
    )
    hits = []
    for row in rows:
        document = documents.get((row.kind, row.object_id))
        if document is None:  # removed since the index row was read
            continue
        title = document.title
        if row.kind == index.INCIDENT:
            title = title.rsplit(" ", 1)[0]  # the key is shown apart
        elif row.kind == index.LESSON:
            title = ""
        hits.append(
            Hit(
                kind=row.kind,
                object_id=row.object_id,
                incident_id=row.incident_id,
                incident_key=keys.get(row.incident_id),
                title=highlight(title, query),
                snippet=snippet(document.body, query),
            )
        )
    return hits


def highlight(text_: str, query: Query) -> Markup:
    """`text_` escaped, with every word that matches the query inside <mark>."""
    return _marked(text_, query, 0, len(text_))


def snippet(text_: str, query: Query, length: int = SNIPPET_WORDS) -> Markup:
    """About `length` words of `text_` around its first match, escaped, matches marked."""
    found: list[re.Match[str]] = []
    first = None
    for match in words(text_):
        found.append(match)
        if first is None and query.matches(stem(match.group())):
            first = len(found) - 1
        if first is not None and len(found) >= first + length:
            break
        if first is None and len(found) > 400:  # no match early on: show the beginning
            break
    if not found:
        return Markup("")
    first = first or 0
    start = max(0, first - length // 4)
    end = min(len(found), start + length)
    start = max(0, end - length)
    # Complete when the window reaches the text's last word: shown to its end, full stop
    # included, with no "…" after it.
    complete = end == len(found) and next(words(text_[found[-1].end() :]), None) is None
    begin = 0 if start == 0 else found[start].start()
    finish = len(text_) if complete else found[end - 1].end()
    shown = _marked(text_, query, begin, finish).strip()
    before = Markup("… ") if start > 0 else Markup("")
    after = Markup("") if complete else Markup(" …")
    return before + shown + after


def _marked(text_: str, query: Query, begin: int, finish: int) -> Markup:
    """Escape each piece first, then add our own <mark> tags: no typed text becomes markup."""
    pieces: list[str] = []
    at = begin
    for match in words(text_[begin:finish]):
        start, end = begin + match.start(), begin + match.end()
        pieces.append(html.escape(SPACES.sub(" ", text_[at:start])))
        word = html.escape(match.group())
        pieces.append(f"<mark>{word}</mark>" if query.matches(stem(match.group())) else word)
        at = end
    pieces.append(html.escape(SPACES.sub(" ", text_[at:finish])))
    return Markup("".join(pieces))  # noqa: S704 - every piece escaped above
