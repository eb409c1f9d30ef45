"""An import commits each file without waiting for the disk on SQLite (synchronous=NORMAL),
and leaves every connection as it found it."""

import pytest
from sqlalchemy import text

from postmortems.transfer.batch import quick_commits
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="a SQLite setting")
NORMAL, FULL = 1, 2


def synchronous(db) -> int:
    value = db.execute(text("PRAGMA synchronous")).scalar()
    db.rollback()
    return value


def test_quick_commits_relax_sqlite_only_inside_the_block(db) -> None:
    assert synchronous(db) == FULL
    with quick_commits():
        assert synchronous(db) == NORMAL
        assert synchronous(db) == NORMAL  # the next transaction too
    assert synchronous(db) == FULL


def test_a_refused_file_inside_the_block_still_rolls_back(db, runner, tmp_path) -> None:
    folder = tmp_path / "in" / "postmortems"
    folder.mkdir(parents=True)
    (folder / "PM-2024-001.md").write_text("---\nformat: 1\nkey: PM-2024-001\ntitle: x\n---\n")
    result = runner.invoke(args=["import", str(tmp_path / "in")])
    assert result.exit_code == 1 and "started_at: missing" in result.output
    assert db.execute(text("SELECT count(*) FROM incident")).scalar() == 0
    assert synchronous(db) == FULL
