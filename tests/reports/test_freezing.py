"""Freezing a quarterly review: its figures stored with the data cut-off and who froze it,
shown again exactly later, and the figures today's data gives differently listed."""

import re

import pytest
from sqlalchemy import select

from models import AuditEvent, FrozenReport, Incident, Role
from postmortems.db import commit_change
from postmortems.demo import load_demo_data
from postmortems.reports.freezing import changed_figures, flatten
from tests.conftest import Browser, make_user, sign_in
from tests.factories import utc

PAGE = "/reports/quarterly/2020Q4"


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def freeze(browser: Browser, page: str = PAGE) -> str:
    """Press the page's freeze button; the URL of the frozen version it lands on."""
    html = browser.open_page(page)
    action = re.search(r'<form method="post" class="inline" action="([^"]+/freeze[^"]*)"', html)
    assert action, "no freeze button"
    response = browser.submit(page, {}, action=action.group(1).replace("&amp;", "&"))
    assert response.status_code == 302
    return response.headers["Location"]


def exclude_the_quarters_incident(db) -> None:
    incident = db.scalars(select(Incident).where(Incident.started_at >= utc(2020, 10, 1))).first()

    def exclude() -> None:
        incident.exclude_from_metrics = True
        db.flush()

    commit_change(exclude)


def test_flatten_names_every_figure_by_a_readable_path() -> None:
    payload = {
        "this_quarter": {
            "incidents": 3,
            "time_to_detect": {"n": 0, "median_seconds": None},
            "top_factors": [{"id": 7, "name": "Missing tests", "category": "X", "incidents": 2}],
            "impacts": [{"kind": "LOST_REVENUE", "unit": "RUB", "likely": "10.00"}],
        },
        "guard_checks_added": ["A", "B"],
        "empty": [],
    }
    assert flatten(payload) == {
        "this_quarter.incidents": 3,
        "this_quarter.time_to_detect.n": 0,
        "this_quarter.time_to_detect.median_seconds": None,
        "this_quarter.top_factors[Missing tests].category": "X",
        "this_quarter.top_factors[Missing tests].incidents": 2,
        "this_quarter.impacts[LOST_REVENUE RUB].likely": "10.00",
        "guard_checks_added": "A, B",
    }


def test_changed_figures_says_from_what_to_what() -> None:
    before = {"q": {"incidents": 3, "median": None, "factors": [{"name": "F", "incidents": 1}]}}
    after = {"q": {"incidents": 4, "median": 60, "factors": []}, "guards": ["G"]}
    changes = [(c.path, c.before, c.after) for c in changed_figures(before, after)]
    assert changes == [
        ("q.incidents", "3", "4"),
        ("q.median", "none", "60"),
        ("q.factors[F].incidents", "1", "—"),
        ("guards", "—", "G"),
    ]
    assert changed_figures(before, before) == []


def test_a_frozen_version_shows_again_exactly_and_lists_what_changed(
    client, db, demo, browser
) -> None:
    live_before = client.get(f"{PAGE}.json").get_json()
    location = freeze(browser)
    assert re.search(r"/reports/quarterly/2020Q4\?frozen=\d+$", location)
    frozen_id = int(location.rsplit("=", 1)[1])
    html = browser.open_page(location)
    assert f"frozen version {frozen_id}" in html
    assert "Nothing: today's data gives the same figures." in html

    exclude_the_quarters_incident(db)

    html = browser.open_page(location)
    assert "<code>this_quarter.incidents</code>: 1 → 0" in html
    assert re.search(r'<td>incidents</td><td class="num">1</td>', html)  # as frozen
    frozen = client.get(f"{PAGE}.json?frozen={frozen_id}").get_json()
    for key in ("this_quarter", "previous_quarter", "year_before", "action_items_at_quarter_end"):
        assert frozen[key] == live_before[key], key
    assert frozen["frozen"]["id"] == frozen_id
    assert {"figure": "this_quarter.incidents", "frozen": "1", "today": "0"} in frozen[
        "changed_since_frozen"
    ]
    live = browser.open_page(PAGE)
    assert f"version {frozen_id}</a>" in live
    assert "<code>this_quarter.incidents</code>: 1 → 0" in live


def test_freezing_stores_the_cutoff_and_who_and_is_audited(client, db, demo, browser, admin):
    freeze(browser)
    row = db.scalars(select(FrozenReport)).one()
    assert row.period == "2020Q4" and row.kind == "quarterly" and row.filters == ""
    assert row.frozen_by_id == admin.id and row.frozen_by_name == admin.display_name
    assert row.data_cutoff_at is not None and row.data_version > 0
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "froze report")).one()
    assert event.object_id == row.id and "2020Q4" in event.summary


def test_a_frozen_version_keeps_its_filters(client, db, demo, browser) -> None:
    location = freeze(browser, f"{PAGE}?severity=SEV4")
    assert "severity=SEV4" in location
    frozen_id = int(re.search(r"frozen=(\d+)", location).group(1))
    assert client.get(location).status_code == 200
    # Asked for with other filters, it answers at its own.
    moved = client.get(f"{PAGE}?frozen={frozen_id}")
    assert moved.status_code == 302 and "severity=SEV4" in moved.headers["Location"]
    assert db.scalars(select(FrozenReport)).one().filters == "severity=SEV4"


def test_unknown_or_other_quarters_frozen_versions_are_404(client, demo, browser) -> None:
    location = freeze(browser)
    frozen_id = int(location.rsplit("=", 1)[1])
    for url in (
        f"/reports/quarterly/2020Q3?frozen={frozen_id}",
        f"{PAGE}?frozen={frozen_id + 1}",
        f"{PAGE}?frozen=abc",
        f"{PAGE}?frozen=99999999999",
        f"{PAGE}.json?frozen=0",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(("role", "allowed"), [(Role.READER, False), (Role.REVIEWER, True)])
def test_reviewers_and_admins_freeze_readers_may_not(app, db, demo, role, allowed) -> None:
    user = make_user(role)
    db.commit()
    browser = Browser(sign_in(app.test_client(), user))
    html = browser.open_page(PAGE)
    assert ("Freeze these figures" in html) is allowed
    response = browser.submit(PAGE, {}, action=f"{PAGE}/freeze")
    assert response.status_code == (302 if allowed else 403)
    assert len(db.scalars(select(FrozenReport)).all()) == (1 if allowed else 0)


def test_freezing_needs_the_csrf_token(client, demo, db) -> None:
    assert client.post(f"{PAGE}/freeze").status_code == 400
    assert db.scalars(select(FrozenReport)).all() == []
