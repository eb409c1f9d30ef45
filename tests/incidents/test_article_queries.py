"""What the postmortem page costs once it is kept: the statements a request runs, for an admin
and for a reader (an upper bound on their number, never a time), and that what is kept still
follows every change the page shows."""

from datetime import UTC, datetime, timedelta

import pytest

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    GuardRun,
    IncidentStatus,
    LessonGroup,
    Role,
    RunStatus,
)
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident
from tests.test_scale import counted_queries

# BEGIN (SQLite's; PostgreSQL's driver begins by itself), the signed-in session with its user,
# and the data version that says whether what is kept is current. Nothing about the postmortem.
KEPT_PAGE_STATEMENTS = 3


def _guarded_postmortem(db, title: str = "Masks broke", **fields):
    """A published postmortem with a done action item whose guard check failed an hour ago:
    the page flags it "at risk"."""
    guard = make_guard(f"Guard of {title}")
    db.add(
        GuardRun(
            guard_check_id=guard.id,
            status=RunStatus.FAIL,
            ran_at=datetime.now(UTC) - timedelta(hours=1),
        )
    )
    incident = make_incident(title, status=IncidentStatus.PUBLISHED, **fields)
    incident.action_items.append(
        ActionItem(
            title=f"Guard for {title}",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            status=ActionStatus.DONE,
            guards=[guard],
        )
    )
    db.flush()
    return incident


@pytest.mark.parametrize("role", [Role.ADMIN, Role.READER])
def test_a_kept_postmortem_page_asks_the_database_only_for_the_session_and_data_version(
    app, db, role
) -> None:
    incident = _guarded_postmortem(db)
    client = sign_in(app.test_client(), make_user(role))
    db.commit()
    url = f"/incidents/{incident.id}"
    client.get(url)  # the first view keeps what the next ones reuse
    with counted_queries(app) as statements:
        page = client.get(url).get_data(as_text=True)
    assert "Masks broke" in page and 'class="badge at-risk"' in page
    assert len(statements) <= KEPT_PAGE_STATEMENTS, statements


def test_a_kept_postmortem_page_shows_a_new_guard_run_at_once(client, db) -> None:
    incident = _guarded_postmortem(db)
    db.commit()
    assert 'class="badge at-risk"' in client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    guard_id = incident.action_items[0].guards[0].id
    db.add(GuardRun(guard_check_id=guard_id, status=RunStatus.PASS, ran_at=datetime.now(UTC)))
    db.commit()
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'class="badge at-risk"' not in page


def test_a_postmortem_kept_for_its_team_stays_hidden_from_another_reader(app, db) -> None:
    incident = _guarded_postmortem(db, "Team secret", is_restricted=True)
    insider = make_user(Role.READER, team_id=None)
    incident.owner_id = insider.id
    outsider = make_user(Role.READER)
    db.commit()
    insider_client = sign_in(app.test_client(), insider)
    assert insider_client.get(f"/incidents/{incident.id}").status_code == 200
    outsider_client = sign_in(app.test_client(), outsider)
    for _ in range(2):  # refused the first time and the kept time alike
        assert outsider_client.get(f"/incidents/{incident.id}").status_code == 404


def test_a_postmortem_published_after_a_reader_was_refused_opens_for_them(app, db) -> None:
    incident = _guarded_postmortem(db, "Soon public")
    incident.status = IncidentStatus.DRAFT
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    assert client.get(f"/incidents/{incident.id}").status_code == 404
    incident.status = IncidentStatus.PUBLISHED
    db.commit()
    assert client.get(f"/incidents/{incident.id}").status_code == 200
