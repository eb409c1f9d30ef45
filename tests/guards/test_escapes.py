"""Escaped guards: recorded when a postmortem is marked a recurrence, undone when that is
cleared or changed, shown on the recurrence's page and on the guard's page."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    EscapedGuard,
    GuardStatus,
    Incident,
    IncidentStatus,
    LessonGroup,
    Role,
)
from postmortems.guards.escapes import escaped_in_period
from postmortems.incidents import history
from postmortems.incidents.service import IncidentValues, update_incident
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, utc

GUARDS_ADDED = utc(2024, 1, 1)


def _guard(name: str, status: GuardStatus = GuardStatus.ACTIVE, created=GUARDS_ADDED):
    guard = make_guard(name)
    guard.status, guard.created_at = status, created
    return guard


def _earlier(*guards) -> Incident:
    incident = make_incident(
        "Threshold broke masks", utc(2024, 2, 1), status=IncidentStatus.PUBLISHED
    )
    incident.action_items.append(
        ActionItem(
            title="Add a result-unchanged test",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            status=ActionStatus.DONE,
            guards=list(guards),
        )
    )
    return incident


def _escaped(db, incident: Incident) -> set[str]:
    db.flush()
    return {
        e.guard.name
        for e in db.scalars(select(EscapedGuard).where(EscapedGuard.incident_id == incident.id))
    }


def _values(incident: Incident, **changes) -> IncidentValues:
    names = IncidentValues.__dataclass_fields__
    current = {n: getattr(incident, n) for n in names if n not in ("tags", "access_user_ids")}
    return IncidentValues(**{**current, **changes})


def test_filing_a_recurrence_records_the_guards_it_got_past(db) -> None:
    active = _guard("Reference predictions")
    proposed = _guard("Config review", GuardStatus.PROPOSED)
    retired = _guard("Old smoke test", GuardStatus.RETIRED)
    too_new = _guard("Added later", created=utc(2024, 5, 1))
    earlier = _earlier(active, proposed, retired, too_new)
    again = make_incident("Masks broke again", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    assert _escaped(db, again) == {"Reference predictions"}
    row = db.scalars(select(EscapedGuard)).one()
    assert row.earlier_incident_id == earlier.id


def test_clearing_recurrence_undoes_the_record(db) -> None:
    earlier = _earlier(_guard("Reference predictions"))
    again = make_incident("Again", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    update_incident(again, _values(again, recurrence_of_id=None), editor=None)
    assert _escaped(db, again) == set()


def test_pointing_at_another_postmortem_records_its_guards_instead(db) -> None:
    first = _earlier(_guard("Reference predictions"))
    second = make_incident("Calibration off", utc(2024, 2, 15))
    second.action_items.append(
        ActionItem(
            title="End-to-end test",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            guards=[_guard("End-to-end test")],
        )
    )
    again = make_incident("Again", utc(2024, 4, 1), recurrence_of_id=first.id)
    update_incident(again, _values(again, recurrence_of_id=second.id), editor=None)
    assert _escaped(db, again) == {"End-to-end test"}


def test_what_was_recorded_stays_while_recurrence_stays_the_same(db) -> None:
    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    again = make_incident("Again", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    guard.status = GuardStatus.RETIRED
    update_incident(again, _values(again, title="Again, edited"), editor=None)
    assert _escaped(db, again) == {"Reference predictions"}


def test_restoring_a_revision_without_recurrence_undoes_the_record(db) -> None:
    earlier = _earlier(_guard("Reference predictions"))
    again = make_incident("Again", utc(2024, 4, 1))
    history.record_revision(again, "filed")
    update_incident(again, _values(again, recurrence_of_id=earlier.id), editor=None)
    history.record_revision(again, "marked")
    assert _escaped(db, again) == {"Reference predictions"}
    history.restore(again, again.revisions[0])
    assert _escaped(db, again) == set()


def test_deleting_the_earlier_postmortem_removes_the_record(db) -> None:
    earlier = _earlier(_guard("Reference predictions"))
    again = make_incident("Again", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    db.commit()
    db.delete(earlier)
    db.commit()
    assert _escaped(db, again) == set()


def test_escapes_in_a_period_count_recurrences_that_started_in_it(db) -> None:
    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    make_incident("In range", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    make_incident("Later", utc(2024, 7, 1), recurrence_of_id=earlier.id)
    make_incident(
        "Excluded", utc(2024, 4, 2), recurrence_of_id=earlier.id, exclude_from_metrics=True
    )
    db.flush()
    from datetime import date

    assert escaped_in_period(date(2024, 4, 1), date(2024, 6, 30)) == [
        (guard.id, "Reference predictions", 1)
    ]


def test_marking_a_recurrence_on_the_edit_form_shows_the_escaped_guard(browser, db) -> None:
    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    again = make_incident("Masks broke again", utc(2024, 4, 1))
    db.commit()
    url = f"/incidents/{again.id}/edit"
    response = browser.submit(
        url,
        {
            "title": "Masks broke again",
            "severity": "SEV3",
            "started_at": "2024-04-01T00:00",
            "recurrence_of_id": str(earlier.id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = browser.get(f"/incidents/{again.id}").get_data(as_text=True)
    assert "Was meant to prevent this" in html and "Reference predictions" in html
    guard_page = browser.get(f"/guards/{guard.id}").get_data(as_text=True)
    assert "Recurrences that got past it" in guard_page and "Masks broke again" in guard_page
    effectiveness = browser.get("/guards/effectiveness").get_data(as_text=True)
    assert ">1</td>" in effectiveness


def test_the_guard_page_hides_escapes_the_reader_may_not_see(app, db) -> None:
    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    make_incident(
        "Secret recurrence",
        utc(2024, 4, 1),
        recurrence_of_id=earlier.id,
        status=IncidentStatus.PUBLISHED,
        is_restricted=True,
    )
    reader = make_user(Role.READER)
    db.commit()
    html = sign_in(app.test_client(), reader).get(f"/guards/{guard.id}").get_data(as_text=True)
    assert "Secret recurrence" not in html and "<li>" not in html.split('id="escapes"')[1][:600]


def test_a_recurrence_filed_before_the_guard_existed_records_nothing(db) -> None:
    guard = _guard("Reference predictions", created=utc(2024, 3, 1))
    earlier = _earlier(guard)
    again = make_incident(
        "Again", utc(2024, 3, 1) - timedelta(seconds=1), recurrence_of_id=earlier.id
    )
    assert _escaped(db, again) == set()


def test_escapes_in_a_period_leave_external_references_out(db) -> None:
    from datetime import date

    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    make_incident("Ours", utc(2024, 4, 1), recurrence_of_id=earlier.id)
    make_incident("Theirs", utc(2024, 4, 2), recurrence_of_id=earlier.id, source_collection="icco")
    db.flush()
    assert escaped_in_period(date(2024, 4, 1), date(2024, 6, 30)) == [
        (guard.id, "Reference predictions", 1)
    ]


@pytest.fixture
def escapes_of_every_kind(db):
    """A guard got past by recurrences of every kind in 2024Q2: published, restricted, a
    draft, a near-miss, one of a restricted earlier postmortem (all counted), an excluded
    one and an external reference (not counted)."""
    guard = _guard("Reference predictions")
    earlier = _earlier(guard)
    hidden_earlier = _earlier(guard)
    hidden_earlier.is_restricted = True
    april = utc(2024, 4, 1)
    published = IncidentStatus.PUBLISHED
    for n, fields in enumerate(
        [
            {"status": published},
            {"status": published, "is_restricted": True},
            {"status": IncidentStatus.DRAFT},
            {"status": published, "is_near_miss": True},
            {"status": published, "recurrence_of_id": hidden_earlier.id},
            {"status": published, "exclude_from_metrics": True},
            {"status": published, "source_collection": "icco"},
        ]
    ):
        make_incident(
            f"Recurrence {n}",
            april + timedelta(days=n),
            **{"recurrence_of_id": earlier.id, **fields},
        )
    db.commit()
    return guard


def _listed_escapes(html: str) -> int:
    section = html.split('<section id="escapes">', 1)[1].split("</section>", 1)[0]
    return section.count("<li>")


@pytest.mark.parametrize(("role", "shown"), [(Role.READER, 3), (Role.ADMIN, 5)])
def test_the_reports_escape_count_for_a_guard_is_the_length_of_the_list_it_links_to(
    app, escapes_of_every_kind, role, shown
) -> None:
    client = sign_in(app.test_client(), make_user(role))
    report = client.get("/reports/quarterly/2024Q2").get_data(as_text=True)
    link, count = re.search(r'<a href="([^"]+)">Reference predictions</a> \((\d+)', report).groups()
    guard_page = client.get(unescape(link)).get_data(as_text=True)
    assert int(count) == shown == _listed_escapes(guard_page)


@pytest.mark.parametrize(("role", "shown"), [(Role.READER, 3), (Role.ADMIN, 5)])
def test_the_effectiveness_escape_count_is_the_length_of_the_guard_pages_list(
    app, escapes_of_every_kind, role, shown
) -> None:
    client = sign_in(app.test_client(), make_user(role))
    table = client.get("/guards/effectiveness").get_data(as_text=True)
    count = re.search(r'data-label="Escaped">(\d+)', table).group(1)
    guard_page = client.get(f"/guards/{escapes_of_every_kind.id}").get_data(as_text=True)
    assert int(count) == shown == _listed_escapes(guard_page)


def test_the_guard_page_says_how_many_counted_escapes_it_does_not_show(
    app, escapes_of_every_kind
) -> None:
    client = sign_in(app.test_client(), make_user(Role.READER))
    html = client.get(f"/guards/{escapes_of_every_kind.id}").get_data(as_text=True)
    assert "(and 2 more counted, not shown to you)" in html
    assert "recurrence of a restricted postmortem" in html


def test_the_guard_page_refuses_a_malformed_escape_span(app, escapes_of_every_kind) -> None:
    client = sign_in(app.test_client(), make_user(Role.READER))
    url = f"/guards/{escapes_of_every_kind.id}?escaped_from=2024-13-01&escaped_to=2024-06-30"
    response = client.get(url)
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)
