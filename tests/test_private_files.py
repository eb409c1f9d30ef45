"""Files the app writes are its user's only (0600, directories it makes 0700), whatever the
umask: the secret key the Makefile writes, the SQLite database and its -wal/-shm, `flask
backup` copies, `flask export` and `flask report quarterly --output`."""

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from postmortems.demo import load_demo_data
from tests.conftest import BACKEND, new_app

ROOT = Path(__file__).resolve().parent.parent
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's own files")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A umask that leaves new files world-readable (the common default), so that these tests
    see what the app does, not what the test runner's umask does."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def test_the_makefile_writes_the_secret_key_for_this_user_only(tmp_path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    python_dir = Path(sys.executable).parent
    result = subprocess.run(
        ["make", "instance/config.py", f"BIN={python_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "instance") == 0o700
    assert mode(tmp_path / "instance" / "config.py") == 0o600
    assert "SECRET_KEY = " in (tmp_path / "instance" / "config.py").read_text()


@sqlite_only
def test_a_new_sqlite_database_and_its_wal_files_are_for_this_user_only(tmp_path) -> None:
    path = tmp_path / "new.db"
    app = new_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{path}"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = app.extensions["db_engine"]
    with engine.connect() as connection:  # open: the -wal and -shm files are there
        connection.execute(text("SELECT count(*) FROM incident"))
        for name in ("new.db", "new.db-wal", "new.db-shm"):
            assert mode(tmp_path / name) == 0o600, name
    engine.dispose()


@sqlite_only
def test_a_backup_copy_is_for_this_user_only(runner, demo, tmp_path) -> None:
    target = tmp_path / "backups" / "copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700


def test_an_export_is_for_this_user_only(runner, demo, tmp_path) -> None:
    target = tmp_path / "export"
    result = runner.invoke(args=["export", str(target)])
    assert result.exit_code == 0, result.output
    files = [p for p in target.rglob("*") if p.is_file()]
    directories = [target, *(p for p in target.rglob("*") if p.is_dir())]
    assert files and {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in directories} == {0o700}


@pytest.mark.parametrize("output_format", ["md", "pdf"])
def test_a_report_written_to_a_file_is_for_this_user_only(
    runner, demo, tmp_path, output_format
) -> None:
    target = tmp_path / f"q4.{output_format}"
    args = ["report", "quarterly", "2020Q4", "--format", output_format, "--output", str(target)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600


def test_a_report_written_over_a_readable_file_is_made_this_users_only(
    runner, demo, tmp_path
) -> None:
    target = tmp_path / "q4.md"
    target.write_text("old")
    target.chmod(0o644)
    assert (
        runner.invoke(args=["report", "quarterly", "2020Q4", "--output", str(target)]).exit_code
        == 0
    )
    assert mode(target) == 0o600 and target.read_text().startswith("# Quarterly review 2020Q4")
