"""Whatever is typed into the search box answers a page or a clear message, never a 500:
the database query is built from our own list of stems, not from the typed syntax."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import IncidentStatus
from postmortems.search.service import NO_WORDS, SHORTENED, search
from tests.factories import make_incident

HOSTILE_QUERIES = [
    '"',
    '"unclosed',
    '""',
    "'",
    "a AND b",
    "OR",
    "NOT model",
    "model NOT",
    "NEAR(model rounded, 2)",
    "NEAR(",
    "*",
    "model*",
    "*model",
    "^model",
    "^",
    "(model",
    "model)",
    "()",
    "title:model",
    "{title body}: model",
    "-model",
    "+model",
    "model:*",
    "!model & | <->",
    "\\",
    "%_",
    "\x00",
    "model\x00rounded",
    "\x01\x02\x1b[31m",
    "\u202e\ufeff",
    "\ud7ff",
    "x" * 10_000,
    "model " * 2_000,
    " " * 600 + "model",
    "\n" * 600,
    "the a an of",
    "и в на",
    "?!.,;:-",
    "   ",
    "",
    "𝔪𝔬𝔡𝔢𝔩",
    "١٢٣",
    "ﬁre",
    "ǅ",
]


@pytest.fixture
def corpus(db):
    make_incident(
        "Model scores rounded",
        what_happened_md="The model's output.",
        status=IncidentStatus.PUBLISHED,
    )
    db.commit()


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_a_hostile_query_answers_a_page(client, corpus, query):
    for path in ("/search", "/search.json"):
        response = client.get(f"{path}?q={quote(query)}")
        assert response.status_code == 200, (path, query)


def test_operators_are_words_like_any_other(db, corpus, admin):
    assert len(search(admin, "model AND rounded").hits) == 0  # "and" is a word too
    assert len(search(admin, 'model "rounded"').hits) == 1
    assert len(search(admin, "(model*) ^rounded").hits) == 1


def test_a_query_of_no_words_says_what_to_do(db, client, corpus):
    html = client.get("/search?q=%3F%21.").get_data(as_text=True)
    assert NO_WORDS in html
    assert client.get("/search.json?q=%22%22").get_json()["message"] == NO_WORDS


def test_a_very_long_query_is_shortened_and_says_so(db, corpus, admin):
    results = search(admin, "model " * 2000)
    assert results.message == SHORTENED
    assert len(results.hits) == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=300))
def test_any_text_is_a_valid_query(db, corpus, admin, query):
    results = search(admin, query)
    assert results.page == 1
    assert all(hit.kind == "incident" for hit in results.hits)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_through_the_page_answers_200(client, corpus, query):
    assert client.get("/search", query_string={"q": query}).status_code == 200
