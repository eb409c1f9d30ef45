"""Builders for reading path tests: published postmortems and a path over them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import IncidentStatus, ReadingPath, Role, User
from postmortems.db import session
from postmortems.paths.service import PathValues, add_item, create_path
from tests.conftest import make_user
from tests.factories import make_incident, utc


def published(title: str, day: int, **fields: Any) -> Any:
    """A published postmortem started on the given day of March 2024."""
    return make_incident(title, utc(2024, 3, day, 10), status=IncidentStatus.PUBLISHED, **fields)


def make_path(title: str = "First week", incidents: list[Any] = (), **values: Any) -> ReadingPath:
    """A path over the incidents, in order, each with the note "Why N"."""
    path = create_path(PathValues(title, **values), by=None)
    for number, incident in enumerate(incidents, start=1):
        add_item(path, incident.key, f"Why {number}", curator=None)
    return path


def old_account(role: Role = Role.READER, **kwargs: Any) -> User:
    """An account made long ago (so it is new only while it has read nothing)."""
    user = make_user(role, **kwargs)
    user.created_at = datetime.now(UTC) - timedelta(days=400)
    session.flush()
    return user


@pytest.fixture
def reader(app: Any, db: Any) -> User:
    user = make_user(Role.READER, "reader@example.com")
    db.commit()
    return user
