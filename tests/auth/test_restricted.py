"""Restricted postmortems: seen by the people and team named on them and by admins; leaked by
no page to anyone else. The routes are taken from the URL map, so new pages are covered."""

from datetime import date

import pytest
from flask import url_for

from models import Incident, IncidentStatus, ReadingPath, ReadingPathItem, Role
from postmortems.pdf import render_document
from tests.api.helpers import Api, token_for
from tests.auth.test_access_matrix import FIXED_VALUES
from tests.auth.world import with_parts
from tests.conftest import Browser, field_errors, make_user, sign_in
from tests.factories import make_guard, make_incident, make_team, utc
from tests.reports.test_pdf import document_text

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
    assert 'data-count="0">0 incidents' in html and MARKER not in html
    assert "(1 more counted, not shown to you)" in html


@pytest.fixture
def referenced(db, restricted):
    """A visible postmortem that names the restricted one every way one can: a recurrence of
    it (so its guard escaped), sharing its factor and guard (the similar panel, the guard's
    page), and after it on a reading path."""
    guard = restricted.action_items[0].guards[0]
    guard.created_at = utc(2024, 1, 1)  # in place before the recurrence: it escaped
    db.flush()
    visible = with_parts(
        make_incident(
            "Visible recurrence",
            utc(2024, 4, 1),
            status=IncidentStatus.PUBLISHED,
            recurrence_of_id=restricted.id,
        ),
        guard,
    )
    path = ReadingPath(title="Onboarding", for_new_users=True)
    path.items = [
        ReadingPathItem(incident=restricted, position=1, note_md="First"),
        ReadingPathItem(incident=visible, position=2, note_md="Then"),
    ]
    db.add(path)
    db.commit()
    return visible, path


def secrets_of(incident) -> list[str]:
    return [MARKER, incident.key]


@pytest.mark.parametrize("role", [Role.READER, Role.AUTHOR, Role.REVIEWER])
def test_no_page_naming_a_restricted_postmortem_shows_it_to_outsiders(
    app, db, restricted, referenced, role
) -> None:
    visible, path = referenced
    outsider = make_user(role)
    db.commit()
    client = sign_in(app.test_client(), outsider)
    ids = {
        "path_id": path.id,
        "item_id": path.items[1].id,
        "incident_id": visible.id,
        "guard_id": visible.action_items[0].guards[0].id,
        "team_id": restricted.team_id,
        "part_id": visible.lessons[0].id,
        "number": 1,
        "user_id": outsider.id,
        "stage_id": 1,
        "snapshot_id": 1,
        "factor_id": 1,
        "key": visible.key,
        "quarter": "2024Q2",
    }
    urls = get_urls(app, ids) + [
        f"/paths/{path.id}/booklet.md",
        "/reports/quarterly/2024Q2.md",
        "/reports/quarterly/2024Q2.json",
    ]
    for url in urls:
        text = client.get(url).get_data().decode("utf-8", "replace")
        for secret in secrets_of(restricted):
            assert secret not in text, (url, secret)
    assert visible.title in client.get(f"/incidents/{visible.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.READER, Role.AUTHOR, Role.REVIEWER])
def test_the_api_never_names_a_restricted_postmortem_to_outsiders(
    app, db, restricted, referenced, role
) -> None:
    visible, _ = referenced
    guard_id = visible.action_items[0].guards[0].id
    outsider = make_user(role)
    api = Api(app, token_for(outsider))
    urls = [
        f"/api/v1/postmortems/{visible.key}",
        "/api/v1/postmortems",
        f"/api/v1/guards/{guard_id}",
        "/api/v1/guards",
        "/api/v1/search?q=recurrence",
        "/api/v1/reports/quarterly/2024Q2",
        "/api/v1/taxonomy",
    ]
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        for secret in secrets_of(restricted):
            assert secret not in response.get_data(as_text=True), (url, secret)
    body = api.get(f"/api/v1/postmortems/{visible.key}").get_json()
    assert body["recurrence_of"] is None


def test_the_booklet_pdf_never_names_a_restricted_postmortem_to_outsiders(
    app, db, restricted, referenced
) -> None:
    _, path = referenced
    outsider = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), outsider)
    html = client.get(f"/paths/{path.id}/booklet.html").get_data(as_text=True)
    text = document_text(render_document(html))
    assert "Visible recurrence" in text
    for secret in secrets_of(restricted):
        assert secret not in text


def test_a_reference_to_a_restricted_postmortem_reads_as_restricted(
    app, db, restricted, referenced
) -> None:
    visible, _ = referenced
    outsider = make_user(Role.READER)
    db.commit()
    html = sign_in(app.test_client(), outsider).get(f"/incidents/{visible.id}").get_data(True)
    assert "a restricted postmortem" in html


def test_the_people_it_names_see_the_reference_with_its_key(
    app, db, restricted, referenced
) -> None:
    visible, _ = referenced
    outsider = make_user(Role.READER)
    db.commit()
    # The outsider's view is kept first: the named reader must not be served it.
    sign_in(app.test_client(), outsider).get(f"/incidents/{visible.id}")
    html = (
        sign_in(app.test_client(), restricted.access_users[0])
        .get(f"/incidents/{visible.id}")
        .get_data(as_text=True)
    )
    assert f"{restricted.key} {MARKER}" in html


def test_a_reviewer_who_may_not_see_the_earlier_one_keeps_the_link_when_saving(
    app, db, restricted, referenced
) -> None:
    visible, _ = referenced
    reviewer = make_user(Role.REVIEWER)
    db.commit()
    browser = Browser(sign_in(app.test_client(), reviewer))
    url = f"/incidents/{visible.id}/edit"
    response = browser.submit_filled(url, {"title": "Visible recurrence, edited"})
    assert response.status_code == 302, field_errors(
        response.get_data(as_text=True), "recurrence_of_id"
    )
    db.expire_all()
    assert db.get(Incident, visible.id).recurrence_of_id == restricted.id
