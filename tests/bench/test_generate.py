"""A smoke test of `python -m bench.generate --shape outside` (issue 18): a small database has
the outside run's shape. Small sizes only; the benchmark's own sizes are far too slow here."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.generate import generate
from bench.shape import SHAPES

INCIDENTS = 200
SECTIONS = ["what_happened_md", "analysis_md", "detection_md", "response_md"]
SECTIONS += ["went_well_md", "got_lucky_md"]


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path: Path = tmp_path_factory.mktemp("bench") / "outside.db"
    generate(path, incidents=INCIDENTS, shape="outside")
    db = sqlite3.connect(path)
    yield db
    db.close()


def test_the_outside_shape_makes_the_postmortems_asked_for(outside: sqlite3.Connection) -> None:
    assert outside.execute("SELECT count(*) FROM incident").fetchone() == (INCIDENTS,)


def test_every_outside_postmortem_has_three_timeline_events(outside: sqlite3.Connection) -> None:
    counts = outside.execute(
        """SELECT count(e.id) FROM incident i LEFT JOIN timeline_event e ON e.incident_id = i.id
           GROUP BY i.id"""
    ).fetchall()
    assert {n for (n,) in counts} == {3}


def test_every_outside_section_is_written_at_about_700_characters(
    outside: sqlite3.Connection,
) -> None:
    for column in SECTIONS:
        shortest, mean, longest = outside.execute(
            f"SELECT min(length({column})), avg(length({column})), max(length({column})) "
            "FROM incident"
        ).fetchone()
        assert shortest > 0, column
        assert 600 <= mean <= 800, (column, mean)
        assert longest < 1_000, (column, longest)


def test_guard_check_one_is_linked_from_about_16_percent_of_outside_postmortems(
    outside: sqlite3.Connection,
) -> None:
    (linked,) = outside.execute(
        """SELECT count(DISTINCT a.incident_id) FROM action_item a
           JOIN action_item_guard ag ON ag.action_item_id = a.id
           WHERE ag.guard_check_id = 1"""
    ).fetchone()
    share = SHAPES["outside"].top_guard_share
    assert share - 0.05 <= linked / INCIDENTS <= share + 0.05, linked
