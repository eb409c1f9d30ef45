"""A second, empty database (the same backend as the test's) to import into."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND, new_app

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.fixture
def other_app(
    migrated_template: str, tmp_path: Any, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    databases = None
    if BACKEND == "postgresql":
        databases = request.getfixturevalue("postgres")
        url = databases.create(template=make_url(migrated_template).database)
    else:
        path = tmp_path / "other.db"
        shutil.copy(migrated_template, path)
        url = f"sqlite:///{path}"
    app = new_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url, "TIMEZONE": "UTC"})
    yield app
    app.extensions["db_engine"].dispose()
    if databases is not None:
        databases.drop(url)


def read_tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def invoke(app: Flask, *args: str) -> Any:
    """Run a command against `app`, even while the test holds another app's context (a
    command runs in the app context it finds, so it gets one of its own app here)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))
