"""Every route × every kind of user → the expected answer. The table is checked against the
app's URL map, so a new route without an entry here fails."""

import pytest

from tests.auth.world import ROLES, build_world
from tests.conftest import Browser, new_app, sign_in


def answers(default: int, **by_role: int) -> dict[str, int]:
    """The expected status per signed-in role; anonymous visitors always go to sign-in (302)."""
    table = dict.fromkeys(ROLES[1:], default)
    table.update(by_role)
    return {"anonymous": 302, **table}


EVERYONE = answers(200)
AUTHORS = answers(200, reader=403)
ADMINS = answers(403, admin=200)
# The draft belongs to `author`: hidden (404) from people it does not name, except admins.
DRAFT_READ = answers(404, author=200, admin=200)
DRAFT_POST = answers(404, author=302, admin=302)
CURATORS = answers(403, reviewer=200, admin=200)  # reading paths
# The JSON API takes tokens only: a signed-in browser's cookie opens none of it.
API = dict.fromkeys(ROLES, 401)
OPEN_TO_ALL = dict.fromkeys(ROLES, 200)

# endpoint → (method, URL values, expected answers). `part_name` picks the part kind.
EXPECTED = {
    "home.index": ("GET", {}, EVERYONE),
    "static": ("GET", {"filename": "style.css"}, {**EVERYONE, "anonymous": 200}),
    "auth.login": ("GET", {}, answers(302, anonymous=200)),
    "auth.logout": ("POST", {}, answers(302)),
    "auth.sign_out_everywhere": ("POST", {}, answers(302)),
    "auth.password": ("GET", {}, EVERYONE),
    "incidents.index": ("GET", {}, EVERYONE),
    "incidents.preview": ("POST", {}, EVERYONE),
    "incidents.create": ("GET", {}, AUTHORS),
    "incidents.detail": ("GET", {"incident_id"}, DRAFT_READ),
    "incidents.edit": ("GET", {"incident_id"}, DRAFT_READ),
    "incidents.delete": ("GET", {"incident_id"}, DRAFT_READ),
    "incidents.revisions": ("GET", {"incident_id"}, DRAFT_READ),
    "incidents.restore": ("POST", {"incident_id", "number"}, DRAFT_POST),
    "incidents.review": ("POST", {"incident_id", "step"}, DRAFT_POST),
    "incidents.create_part": ("GET", {"incident_id", "part_name"}, DRAFT_READ),
    "incidents.edit_part": ("GET", {"incident_id", "part_name", "part_id"}, DRAFT_READ),
    "incidents.delete_part": ("POST", {"incident_id", "part_name", "part_id"}, DRAFT_POST),
    "guards.index": ("GET", {}, EVERYONE),
    "guards.detail": ("GET", {"guard_id"}, EVERYONE),
    "guards.create": ("GET", {}, AUTHORS),
    "guards.edit": ("GET", {"guard_id"}, AUTHORS),
    "guards.record": ("GET", {"guard_id"}, answers(403, reviewer=200, admin=200)),
    "guards.at_risk": ("GET", {}, EVERYONE),
    "guards.effectiveness_table": ("GET", {}, EVERYONE),
    "teams.index": ("GET", {}, EVERYONE),
    "teams.detail": ("GET", {"team_id"}, EVERYONE),
    "teams.create": ("GET", {}, ADMINS),
    "teams.edit": ("GET", {"team_id"}, ADMINS),
    "teams.delete_snapshot": ("POST", {"team_id", "snapshot_id"}, answers(403, admin=302)),
    "teams.create_stage": ("GET", {}, ADMINS),
    "teams.edit_stage": ("GET", {"stage_id"}, ADMINS),
    "taxonomy.index": ("GET", {}, EVERYONE),
    "taxonomy.create_factor": ("GET", {}, ADMINS),
    "taxonomy.edit_factor": ("GET", {"factor_id"}, ADMINS),
    "users.index": ("GET", {}, ADMINS),
    "users.create": ("GET", {}, ADMINS),
    "users.edit": ("GET", {"user_id"}, ADMINS),
    "audit.index": ("GET", {}, ADMINS),
    "transfer.index": ("GET", {}, ADMINS),
    "transfer.download": ("POST", {}, answers(403, admin=200)),
    "reports.trends": ("GET", {}, EVERYONE),
    "reports.trends_json": ("GET", {}, EVERYONE),
    "reports.quarterly_index": ("GET", {}, answers(302)),
    "reports.quarterly": ("GET", {"quarter"}, EVERYONE),
    "reports.quarterly_json": ("GET", {"quarter"}, EVERYONE),
    "reports.quarterly_markdown": ("GET", {"quarter"}, EVERYONE),
    "reports.trends_svg": ("GET", {}, EVERYONE),
    "reports.quarterly_pdf": ("GET", {"quarter"}, EVERYONE),
    "reports.quarterly_chart": ("GET", {"quarter", "chart"}, EVERYONE),
    "reports.freeze": ("POST", {"quarter"}, answers(403, reviewer=302, admin=302)),
    "teams.headcount_svg": ("GET", {}, EVERYONE),
    "health.healthz": ("GET", {}, {**EVERYONE, "anonymous": 200}),
    "search.index": ("GET", {}, EVERYONE),
    "search.index_json": ("GET", {}, EVERYONE),
    "search.pick_incident": ("GET", {}, EVERYONE),
    "knowledge.lessons": ("GET", {}, EVERYONE),
    "knowledge.similar": ("GET", {"incident_id"}, DRAFT_READ),
    "knowledge.similar_to_typed": ("GET", {}, EVERYONE),
    "knowledge.mark_as_recurrence": ("POST", {"incident_id"}, DRAFT_POST),
    "paths.index": ("GET", {}, EVERYONE),
    "paths.detail": ("GET", {"path_id"}, EVERYONE),
    "paths.create": ("GET", {}, CURATORS),
    "paths.edit": ("GET", {"path_id"}, CURATORS),
    "paths.delete": ("GET", {"path_id"}, CURATORS),
    "paths.readers": ("GET", {"path_id"}, ADMINS),
    "paths.create_item": ("GET", {"path_id"}, CURATORS),
    "paths.edit_item": ("GET", {"path_id", "item_id"}, CURATORS),
    "paths.delete_item": ("GET", {"path_id", "item_id"}, CURATORS),
    "paths.move": (
        "POST",
        {"path_id", "item_id", "direction"},
        answers(403, reviewer=302, admin=302),
    ),
    "paths.mark": ("POST", {"path_id", "item_id", "mark"}, answers(302)),
    "paths.booklet_file": ("GET", {"path_id", "kind"}, EVERYONE),
    "tokens.index": ("GET", {}, EVERYONE),
    "tokens.revoke_token": ("POST", {"token_id"}, answers(404)),  # not theirs
    "api.list_postmortems": ("GET", {}, API),
    "api.create_postmortem": ("POST", {}, API),
    "api.get_postmortem": ("GET", {"key"}, API),
    "api.update_postmortem": ("PATCH", {"key"}, API),
    "api.take_step": ("POST", {"key", "step"}, API),
    "api.taxonomy": ("GET", {}, API),
    "api.search_postmortems": ("GET", {}, API),
    "api.guards": ("GET", {}, API),
    "api.guard": ("GET", {"guard_id"}, API),
    "api.report_run": ("POST", {"guard_id"}, API),
    "api.guards_health_report": ("GET", {}, API),
    "api.teams": ("GET", {}, API),
    "api.team": ("GET", {"team_id"}, API),
    "api.growth_stages": ("GET", {}, API),
    "api.trends": ("GET", {}, API),
    "api.quarterly": ("GET", {"quarter"}, API),
    "api.openapi": ("GET", {}, OPEN_TO_ALL),
    "api.reference": ("GET", {}, OPEN_TO_ALL),
}
FIXED_VALUES = {
    "part_name": "lessons",
    "step": "submit",
    "filename": "style.css",
    "quarter": "2020Q4",
    "chart": "incidents",
    "direction": "down",
    "mark": "read",
    "kind": "html",
    "key": "PM-2024-001",
    "token_id": 1,
}


def test_every_route_has_an_entry_in_the_table(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), (
        f"missing: {sorted(endpoints - set(EXPECTED))}; stale: {sorted(set(EXPECTED) - endpoints)}"
    )


CASES = [(endpoint, role) for endpoint in EXPECTED for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_access(app_config, endpoint: str, role: str) -> None:
    app = new_app(app_config)
    try:
        check_access(app, endpoint, role)
    finally:
        app.extensions["db_engine"].dispose()


def check_access(app, endpoint: str, role: str) -> None:
    from flask import url_for

    with app.app_context():
        world = build_world()
        method, names, expected = EXPECTED[endpoint]
        values = {n: world.ids.get(n, FIXED_VALUES.get(n)) for n in names}
        with app.test_request_context():
            url = url_for(endpoint, **values)
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, world.users[role])
    if method == "GET":
        response = client.get(url)
    elif method == "PATCH":
        response = client.patch(url, json={})
    else:
        token_page = "/auth/login" if role == "anonymous" else "/auth/password"
        response = Browser(client).submit(token_page, {}, action=url)
    assert response.status_code == expected[role], f"{method} {url} as {role}"
