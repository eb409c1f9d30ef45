"""Similar earlier postmortems (with why), one-click recurrence, and the recurrence picker."""

import dataclasses

import pytest
from sqlalchemy import event

from models import (
    ActionItem,
    ActionType,
    Incident,
    IncidentFactor,
    IncidentStatus,
    LessonGroup,
    Role,
)
from postmortems.knowledge import service
from postmortems.knowledge.service import Traits, similar_incidents, traits_of
from tests.conftest import Browser, field_errors, make_user, sign_in
from tests.factories import factor_named, make_guard, make_incident, utc

PUBLISHED = IncidentStatus.PUBLISHED


def with_factor(incident: Incident, name: str) -> Incident:
    incident.factors.append(IncidentFactor(factor=factor_named(name)))
    return incident


def founding(db):
    """An August 2020 threshold incident, an unrelated one, and a later one like the first."""
    first = with_factor(
        make_incident(
            "Binarisation threshold changed",
            utc(2020, 8, 17),
            tags=["config"],
            affected_system="triage-model",
            status=PUBLISHED,
        ),
        "Fatigue",
    )
    make_incident("Disk full on the build server", utc(2020, 9, 1), status=PUBLISHED)
    later = with_factor(
        make_incident(
            "Decision threshold changed again",
            utc(2021, 3, 1),
            tags=["config"],
            affected_system="triage-model",
            status=PUBLISHED,
        ),
        "Fatigue",
    )
    db.commit()
    return first, later


def test_the_most_similar_earlier_postmortem_comes_first_with_why(db, admin):
    first, later = founding(db)
    found = similar_incidents(admin, traits_of(later))
    assert found[0].key == first.key
    assert found[0].reasons == (
        "shares factor Fatigue",
        "tag config",
        "same affected system triage-model",
        "similar words",
    )
    assert later.key not in [s.key for s in found]


def test_only_earlier_postmortems_are_offered(db, admin):
    first, later = founding(db)
    assert later.key not in [s.key for s in similar_incidents(admin, traits_of(first))]


def test_a_restricted_similar_postmortem_stays_hidden(db, admin):
    first, later = founding(db)
    first.is_restricted = True
    db.commit()
    reader = make_user(Role.READER)
    db.commit()
    assert first.key not in [s.key for s in similar_incidents(reader, traits_of(later))]
    assert first.key in [s.key for s in similar_incidents(admin, traits_of(later))]


def test_the_postmortem_page_loads_its_similar_panel(db, client):
    first, later = founding(db)
    page = client.get(f"/incidents/{later.id}").get_data(as_text=True)
    assert f'hx-get="/incidents/{later.id}/similar"' in page
    panel = client.get(f"/incidents/{later.id}/similar", headers={"HX-Request": "true"})
    html = panel.get_data(as_text=True)
    assert first.key in html and "Shares factor Fatigue; tag config" in html
    assert "<html" not in html
    assert "<html" in client.get(f"/incidents/{later.id}/similar").get_data(as_text=True)


def test_one_click_marks_a_recurrence_and_shows_the_guards_meant_to_prevent_it(db, browser):
    first, later = founding(db)
    guard = make_guard("Result-unchanged test")
    first.action_items.append(
        ActionItem(
            title="Add the test",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            guards=[guard],
        )
    )
    db.commit()
    response = browser.submit(
        f"/incidents/{later.id}/similar",
        {"recurrence_of_id": str(first.id), "version": str(later.version)},
        action=f"/incidents/{later.id}/recurrence",
        follow=True,
    )
    assert "Marked as a recurrence." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Incident, later.id).recurrence_of_id == first.id
    panel = browser.get(f"/incidents/{later.id}/similar").get_data(as_text=True)
    assert "were meant to prevent this" in panel and "Result-unchanged test" in panel


def test_marking_a_recurrence_needs_the_form_token(db, client):
    first, later = founding(db)
    response = client.post(
        f"/incidents/{later.id}/recurrence", data={"recurrence_of_id": str(first.id)}
    )
    assert response.status_code == 400
    db.expire_all()
    assert db.get(Incident, later.id).recurrence_of_id is None


def test_a_reader_cannot_mark_a_recurrence(app, db):
    first, later = founding(db)
    reader = make_user(Role.READER)
    db.commit()
    browser = Browser(sign_in(app.test_client(), reader))
    response = browser.submit(
        "/lessons",
        {"recurrence_of_id": str(first.id)},
        action=f"/incidents/{later.id}/recurrence",
    )
    assert response.status_code == 403


def test_a_hidden_postmortem_cannot_be_named_a_recurrence_target(db, browser):
    first, later = founding(db)
    hidden = make_incident("Someone's draft", utc(2020, 1, 1))
    db.commit()
    author = make_user(Role.AUTHOR)
    later.status = IncidentStatus.DRAFT
    later.author_id = author.id
    db.commit()
    sign_in(browser.client, author)
    response = browser.submit(
        f"/incidents/{later.id}/similar",
        {"recurrence_of_id": str(hidden.id), "version": str(later.version)},
        action=f"/incidents/{later.id}/recurrence",
        follow=True,
    )
    assert "No such postmortem." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Incident, later.id).recurrence_of_id is None


def test_the_filing_form_panel_offers_similar_postmortems_for_what_is_typed(db, client):
    first, _ = founding(db)
    factor = factor_named("Fatigue")
    response = client.get(
        "/similar",
        query_string={
            "title": "Threshold changed, the mask broke",
            "tags": "config",
            "factors-0-factor_id": str(factor.id),
            "started_at": "2020-12-01T10:00",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert first.key in html and "Shares factor Fatigue; tag config; similar words" in html
    assert 'data-pick-recurrence="PM-2020-001"' in html


def test_the_filing_form_panel_ignores_bad_values(db, client):
    founding(db)
    query = {
        "team_id": "x",
        "started_at": "never",
        "factors-0-factor_id": "9" * 40,
        "incident_id": "-1",
        "title": "\x00",
        "affected_system": "a\x00b",
        "tags": "x\x00, y",
    }
    assert client.get("/similar", query_string=query).status_code == 200


def test_the_recurrence_field_takes_a_key_and_shows_it(db, browser):
    first, _ = founding(db)
    form = browser.open_page("/incidents/new")
    assert 'list="recurrence_of_id-options"' in form and "<datalist" in form
    assert "Binarisation threshold changed" not in form  # no select of every postmortem
    response = browser.submit(
        "/incidents/new",
        {
            "title": "Again",
            "started_at": "2021-05-01T10:00",
            "severity": "SEV3",
            "recurrence_of_id": first.key.lower(),
        },
    )
    assert response.status_code == 302
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.expire_all()
    assert db.get(Incident, new_id).recurrence_of_id == first.id
    edit = browser.open_page(f"/incidents/{new_id}/edit")
    assert f'value="{first.key}"' in edit


def test_an_unknown_key_is_refused_beside_the_field_with_the_text_kept(db, browser):
    founding(db)
    response = browser.submit(
        "/incidents/new",
        {
            "title": "Again",
            "started_at": "2021-05-01T10:00",
            "severity": "SEV3",
            "recurrence_of_id": "PM-1999-999 <b>",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, "recurrence_of_id") == [
        "No postmortem has this key: type one such as PM-2020-001."
    ]
    assert 'value="PM-1999-999 &lt;b&gt;"' in html


def test_the_picker_suggests_by_key_prefix_and_by_words(db, client):
    first, later = founding(db)
    by_key = client.get("/search/incidents?q=pm-2020").get_data(as_text=True)
    assert f'<option value="{first.key}">' in by_key and later.key not in by_key
    by_words = client.get("/search/incidents?recurrence_of_id=binarisation").get_data(as_text=True)
    assert first.key in by_words and later.key not in by_words
    data = client.get("/search/incidents?q=threshold&format=json").get_json()
    assert {row["key"] for row in data} == {first.key, later.key}
    assert client.get("/search/incidents?q=%25_%27%22").status_code == 200


def test_the_picker_never_suggests_a_hidden_postmortem(app, db):
    make_incident("Secret thing", utc(2020, 1, 1), status=PUBLISHED, is_restricted=True)
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    assert "PM-2020" not in client.get("/search/incidents?q=PM-2020").get_data(as_text=True)
    assert "PM-2020" not in client.get("/search/incidents?q=secret").get_data(as_text=True)


def test_the_panel_is_kept_until_a_change_and_a_change_shows_on_the_next_view(app, db, client):
    first, later = founding(db)
    url = f"/incidents/{later.id}/similar"
    statements: list[str] = []
    event.listen(app.extensions["db_engine"], "before_cursor_execute", _record(statements))
    assert first.key in client.get(url).get_data(as_text=True)
    assert [s for s in statements if "UNION ALL" in s]  # every trait in one statement
    statements.clear()
    assert first.key in client.get(url).get_data(as_text=True)
    assert not [s for s in statements if "UNION ALL" in s]  # kept, not worked out again
    again = with_factor(
        make_incident("Threshold changed a third time", utc(2020, 12, 1), status=PUBLISHED),
        "Fatigue",
    )
    db.commit()
    assert again.key in client.get(url).get_data(as_text=True)
    first.title = "Renamed after review"
    db.commit()
    assert "Renamed after review" in client.get(url).get_data(as_text=True)


def test_a_postmortem_restricted_since_leaves_a_readers_panel(app, db):
    first, later = founding(db)
    reader = make_user(Role.READER)
    db.commit()
    reader_client = sign_in(app.test_client(), reader)
    url = f"/incidents/{later.id}/similar"
    assert first.key in reader_client.get(url).get_data(as_text=True)
    first.is_restricted = True
    db.commit()
    assert first.key not in reader_client.get(url).get_data(as_text=True)


def _record(statements: list[str]):
    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    return record


@pytest.mark.parametrize("probe", [1, 2000])
def test_postmortems_filed_out_of_order_are_offered_by_when_they_started(
    db, admin, monkeypatch, probe
):
    """Ids follow filing, not start times: one filed late about an early incident is offered,
    one filed early about a later incident is not, and with nothing earlier there is none
    (whether the last earlier id is found among the newest ids or along the start times)."""
    monkeypatch.setattr(service, "LAST_ID_PROBE", probe)
    later_start = with_factor(
        make_incident("Config drift in 2023", utc(2023, 1, 1), status=PUBLISHED), "Fatigue"
    )
    filed_late = with_factor(
        make_incident("Config drift in 2019", utc(2019, 1, 1), status=PUBLISHED), "Fatigue"
    )
    db.commit()
    traits = Traits(
        factor_ids=frozenset(f.factor_id for f in filed_late.factors),
        words="config drift",
        started_before=utc(2020, 6, 1),
    )
    found = [s.key for s in similar_incidents(admin, traits)]
    assert found == [filed_late.key] and later_start.key not in found
    earliest = dataclasses.replace(traits, started_before=utc(2018, 1, 1))
    assert similar_incidents(admin, earliest) == []


def test_a_nearly_identical_title_comes_first_while_filing(db, client):
    """Issue 20: typing "Probabilities rounded…", the postmortem of that title is offered
    first, above one that only shares a factor, a tag and the affected system."""
    same_story = make_incident(
        "Probabilities rounded to integers", utc(2021, 2, 1), status=PUBLISHED
    )
    with_factor(
        make_incident(
            "Scores rounded in the export",
            utc(2021, 3, 1),
            tags=["config"],
            affected_system="triage-model",
            status=PUBLISHED,
        ),
        "Fatigue",
    )
    db.commit()
    response = client.get(
        "/similar",
        query_string={
            "title": "Probabilities rounded to integer",
            "tags": "config",
            "affected_system": "triage-model",
            "factors-0-factor_id": str(factor_named("Fatigue").id),
        },
    )
    html = response.get_data(as_text=True)
    assert html.index(same_story.key) < html.index("Scores rounded in the export")
    assert "Nearly the same title" in html
