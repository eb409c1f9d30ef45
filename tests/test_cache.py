"""The one store of kept figures: least recently used first out, per viewer, never stale."""

from models import Role
from postmortems.cache import cached
from tests.conftest import make_user


def compute_counting(calls: list[str], value: str):
    def compute() -> str:
        calls.append(value)
        return value

    return compute


def test_the_store_drops_the_least_recently_used_past_its_bound(app, db):
    app.config["CACHE_MAX_ENTRIES"] = 2
    calls: list[str] = []
    cached("a", compute_counting(calls, "a"), viewer=None)
    cached("b", compute_counting(calls, "b"), viewer=None)
    cached("a", compute_counting(calls, "a"), viewer=None)  # a hit: "a" is now the newer
    cached("c", compute_counting(calls, "c"), viewer=None)  # "b" goes
    cached("a", compute_counting(calls, "a"), viewer=None)
    cached("b", compute_counting(calls, "b"), viewer=None)
    assert calls == ["a", "b", "c", "b"]


def test_a_bound_of_zero_keeps_nothing(app, db):
    app.config["CACHE_MAX_ENTRIES"] = 0
    calls: list[str] = []
    for _ in range(2):
        cached("a", compute_counting(calls, "a"), viewer=None)
    assert calls == ["a", "a"]


def test_a_value_kept_for_one_viewer_is_not_served_to_another(app, db):
    reader, other = make_user(Role.READER), make_user(Role.READER)
    db.commit()
    assert cached("page", lambda: "reader's", viewer=reader) == "reader's"
    assert cached("page", lambda: "other's", viewer=other) == "other's"


def test_a_commit_that_writes_makes_kept_values_stale(app, db):
    calls: list[str] = []
    cached("a", compute_counting(calls, "a"), viewer=None)
    make_user(Role.READER)
    db.commit()
    cached("a", compute_counting(calls, "a"), viewer=None)
    assert calls == ["a", "a"]
