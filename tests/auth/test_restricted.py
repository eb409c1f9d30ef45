"""Restricted postmortems: seen by the people and team named on them and by admins; leaked by
no page to anyone else. The routes are taken from the URL map, so new pages are covered."""

from datetime import date

import pytest
from flask import url_for

from models import IncidentStatus, ReadingPath, ReadingPathItem, Role
from tests.auth.test_access_matrix import FIXED_VALUES
from tests.auth.world import with_parts
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, make_team, utc

MARKER = "Restricted-7f3a patient data"


@pytest.fixture
def restricted(db):
    team = make_team("Imaging", [(date(2024, 1, 1), 4)])
    guard = make_guard("Shared guard")
    named = make_user(Role.READER, "named@example.com")
    incident = with_parts(
        make_incident(
            MARKER,
            utc(2024, 3, 1),
            team=team,
            is_restricted=True,
            status=IncidentStatus.PUBLISHED,
            summary=MARKER,
        ),
        guard,
    )
    incident.access_users.append(named)
    incident.tags = []
    db.commit()
    return incident


def get_urls(app, ids: dict[str, int]) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            values = {name: ids.get(name, FIXED_VALUES.get(name)) for name in rule.arguments}
            assert None not in values.values(), f"no value for {rule.endpoint}'s arguments"
            urls.append(url_for(rule.endpoint, **values))
    return urls


@pytest.mark.parametrize("role", [Role.READER, Role.AUTHOR, Role.REVIEWER])
def test_no_page_shows_a_restricted_postmortem_to_outsiders(app, db, restricted, role) -> None:
    outsider = make_user(role)
    path = ReadingPath(title="Onboarding", for_new_users=True)
    path.items = [ReadingPathItem(incident=restricted, position=1, note_md="Read it")]
    db.add(path)
    db.commit()
    client = sign_in(app.test_client(), outsider)
    ids = {
        "path_id": path.id,
        "item_id": path.items[0].id,
        "incident_id": restricted.id,
        "guard_id": restricted.action_items[0].guards[0].id,
        "team_id": restricted.team_id,
        "part_id": restricted.lessons[0].id,
        "number": 1,
        "user_id": outsider.id,
        "stage_id": 1,
        "snapshot_id": 1,
        "factor_id": 1,
        "key": restricted.key,
    }
    urls = get_urls(app, ids) + [
        f"/incidents/?team={restricted.team_id}",
        "/incidents/?status=PUBLISHED",
        "/incidents/?year=2024",
    ]
    for url in urls:
        response = client.get(url)
        # A PDF is binary (its text compressed): it renders the same HTML as the page it
        # comes from, which is checked here as a page of its own.
        assert MARKER not in response.get_data().decode("utf-8", "replace"), url
    assert client.get(f"/incidents/{restricted.id}").status_code == 404


@pytest.mark.parametrize("who", ["named", "team member", "admin"])
def test_the_people_named_the_team_and_admins_see_it(app, db, restricted, who) -> None:
    if who == "named":
        user = restricted.access_users[0]
    elif who == "team member":
        user = make_user(Role.READER, team_id=restricted.team_id)
    else:
        user = make_user(Role.ADMIN)
    db.commit()
    client = sign_in(app.test_client(), user)
    assert MARKER in client.get("/incidents/").get_data(as_text=True)
    assert client.get(f"/incidents/{restricted.id}").status_code == 200
    guard_id = restricted.action_items[0].guards[0].id
    assert MARKER in client.get(f"/guards/{guard_id}").get_data(as_text=True)


def test_counts_include_restricted_postmortems_without_details(app, db, restricted) -> None:
    outsider = make_user(Role.READER)
    db.commit()
    html = sign_in(app.test_client(), outsider).get("/taxonomy/").get_data(as_text=True)
    assert "1 incident" in html and MARKER not in html
    assert "(1 more counted, not shown to you)" in html
