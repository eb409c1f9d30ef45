"""Postmortems through the JSON API, end to end on the real database: filing with every part
in one call, atomically; reading, changing with the version, the workflow; who sees what.
Every answer is checked against the OpenAPI document (tests/api/helpers.py)."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    ActionItem,
    GuardCheck,
    ImpactEstimate,
    Incident,
    IncidentStatus,
    Lesson,
    Role,
    Severity,
    Tag,
    TimelineEvent,
)
from tests.api.helpers import Api, user_with_token
from tests.auth.world import with_parts
from tests.factories import make_guard, make_incident, make_team, utc

WHOLE = {
    "title": "Binarisation threshold changed with the decision threshold",
    "summary": "Three days of garbage predictions after a config key meant two things.",
    "severity": "SEV2",
    "team": "ML",
    "affected_system": "mammography model",
    "environment": "production",
    "started_at": "2020-08-10T09:00:00Z",
    "started_is_estimated": True,
    "detected_at": "2020-08-13T12:00:00+03:00",
    "resolved_at": "2020-08-14T10:00:00Z",
    "what_happened_md": "The **bin_threshold** key meant two things.",
    "analysis_md": "The slow metrics test was skipped by an override.",
    "tags": ["config", "release"],
    "is_near_miss": False,
    "exclude_from_metrics": False,
    "timeline": [
        {"at": "2020-08-10T09:00:00Z", "text_md": "Release with the new threshold."},
        {"at": "2020-08-13T09:00:00Z", "text_md": "The engineer notices flat scores."},
    ],
    "factors": [
        {
            "category": "TECH_DEBT_CULTURE",
            "factor": "Tangled code and configs",
            "note": "One key, two meanings.",
            "is_primary": True,
        },
        {"category": "PERSONAL", "factor": "Rules not followed", "note": "", "is_primary": False},
    ],
    "impacts": [
        {"kind": "ITEMS_PROCESSED_WRONGLY", "low": "1500", "likely": "1500", "unit": "images"},
        {"kind": "LOST_REVENUE", "likely": "12345678901234.123456", "currency": "RUB"},
        {"kind": "REPUTATION", "level": "MINOR"},
    ],
    "lessons": [{"group": "TECHNICAL", "text_md": "Name config keys so each means one thing."}],
    "action_items": [
        {
            "title": "Add a result-unchanged test",
            "group": "TECHNICAL",
            "type": "PREVENTIVE",
            "due_on": "2020-09-01",
            "guards": ["Result unchanged test", "Existing smoke test"],
        },
        {
            "title": "Rename bin_threshold",
            "group": "TECHNICAL",
            "type": "CORRECTIVE",
            "status": "DONE",
            "completed_on": "2020-08-20",
        },
    ],
}


@pytest.fixture
def author(db):
    make_team("ML", [(date(2020, 1, 1), 8)])
    make_guard("Existing smoke test")
    user, token = user_with_token(Role.AUTHOR)
    return user, token


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_postmortem_with_all_its_parts_is_filed_by_one_call(app, db, author) -> None:
    user, token = author
    response = Api(app, token).post("/api/v1/postmortems", WHOLE)
    assert response.status_code == 201
    body = response.get_json()
    assert body["key"] == "PM-2020-001"
    assert response.headers["Location"] == f"/api/v1/postmortems/{body['key']}"
    incident = db.get(Incident, body["id"])
    assert incident.status is IncidentStatus.DRAFT and incident.author_id == user.id
    assert incident.team.name == "ML" and incident.detected_at == utc(2020, 8, 13, 9)
    assert [t.name for t in incident.tags] == ["config", "release"]
    assert len(incident.timeline) == 2 and len(incident.lessons) == 1
    assert [f.factor.name for f in incident.factors][0] == "Tangled code and configs"
    money = next(i for i in incident.impacts if i.currency == "RUB")
    assert money.likely == Decimal("12345678901234.123456")
    first = incident.action_items[0]
    assert sorted(g.name for g in first.guards) == ["Existing smoke test", "Result unchanged test"]
    assert len(incident.revisions) == 1  # one change, one revision


def test_the_filed_postmortem_reads_back_with_every_part(app, db, author) -> None:
    api = Api(app, author[1])
    key = api.post("/api/v1/postmortems", WHOLE).get_json()["key"]
    response = api.get(f"/api/v1/postmortems/{key}")
    body = response.get_json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert body["detected_at"] == "2020-08-13T09:00:00Z"
    assert [i["likely"] for i in body["impacts"]] == ["1500", "12345678901234.123456", None]
    assert body["factors"][0]["is_primary"] is True
    assert body["steps"] == ["submit"]
    assert "Result unchanged test" in [g["name"] for g in body["action_items"][0]["guards"]]


@pytest.mark.parametrize(
    ("part", "bad", "field"),
    [
        ("impacts", {"kind": "DIRECT_COST", "low": "5", "likely": "2", "currency": "EUR"}, "low"),
        ("impacts", {"kind": "DIRECT_COST", "likely": "2", "currency": "XYZ"}, "currency"),
        ("factors", {"category": "CHANCE", "factor": "No such factor"}, "factor"),
        ("timeline", {"at": "2020-08-10T09:00:00Z", "text_md": "  "}, "text_md"),
        (
            "action_items",
            {"title": "x", "group": "TECHNICAL", "type": "PREVENTIVE", "due_on": "2019-01-01"},
            "due_on",
        ),
        (
            "action_items",
            {"title": "x", "group": "TECHNICAL", "type": "PREVENTIVE", "guards": ["A", "B"]},
            "guards",
        ),
    ],
)
def test_a_bad_part_stores_nothing(app, db, author, part, bad, field) -> None:
    guards_before = count(db, GuardCheck)
    body = {**WHOLE, part: [*WHOLE[part], bad]}
    response = Api(app, author[1]).post("/api/v1/postmortems", body)
    assert response.status_code == 422
    assert f"{part}.{len(WHOLE[part])}.{field}" in response.get_json()["fields"]
    for model in (Incident, TimelineEvent, ImpactEstimate, Lesson, ActionItem, Tag):
        assert count(db, model) == 0, model.__name__
    assert count(db, GuardCheck) == guards_before  # the new guard went too


def test_a_bad_field_of_the_incident_stores_nothing(app, db, author) -> None:
    body = {**WHOLE, "resolved_at": "2020-08-01T00:00:00Z"}  # before the start
    response = Api(app, author[1]).post("/api/v1/postmortems", body)
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["resolved_at"]
    assert count(db, Incident) == 0 and count(db, Lesson) == 0


def test_an_unknown_team_is_named(app, db, author) -> None:
    response = Api(app, author[1]).post("/api/v1/postmortems", {**WHOLE, "team": "Nobody"})
    assert response.status_code == 422 and "team" in response.get_json()["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"severity": "SEV9"}, "severity"),
        ({"is_near_miss": "yes"}, "is_near_miss"),
        ({"started_at": "last tuesday"}, "started_at"),
        ({"started_at": "2300-01-01T00:00:00Z"}, "started_at"),
        ({"title": "x" * 201}, "title"),
        ({"tags": "config"}, "tags"),
        (
            {"impacts": [{"kind": "LOST_REVENUE", "likely": 1.5, "currency": "EUR"}]},
            "impacts.0.likely",
        ),
        (
            {"impacts": [{"kind": "LOST_REVENUE", "likely": "-1", "currency": "EUR"}]},
            "impacts.0.likely",
        ),
        ({"timeline": [{"at": "2020-08-10T09:00:00Z"}]}, "timeline.0.text_md"),
    ],
)
def test_wrong_fields_are_refused_by_name(app, db, author, change, field) -> None:
    response = Api(app, author[1]).post("/api/v1/postmortems", {**WHOLE, **change})
    assert response.status_code == 422
    assert field in response.get_json()["fields"], response.get_json()
    assert count(db, Incident) == 0


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b"", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(app, db, author, raw) -> None:
    response = Api(app, author[1]).call(
        "POST", "/api/v1/postmortems", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert set(response.get_json()) == {"error", "message", "fields"}


@pytest.fixture
def berlin(app_config):
    app_config["TIMEZONE"] = "Europe/Berlin"


def test_times_without_an_offset_are_read_in_the_configured_zone(berlin, app, db, author) -> None:
    body = {**WHOLE, "started_at": "2020-08-10T09:00:00", "detected_at": None}
    key = Api(app, author[1]).post("/api/v1/postmortems", body).get_json()["key"]
    incident = db.scalar(select(Incident).where(Incident.key == key))
    assert incident.started_at == utc(2020, 8, 10, 7)  # 09:00 in Berlin's summer time


def test_patch_changes_fields_and_adds_parts_on_the_version_read(app, db, author) -> None:
    api = Api(app, author[1])
    key = api.post("/api/v1/postmortems", WHOLE).get_json()["key"]
    version = api.get(f"/api/v1/postmortems/{key}").get_json()["version"]
    change = {"title": "Renamed", "lessons": [{"group": "PERSONAL", "text_md": "Rest."}]}
    response = api.patch(f"/api/v1/postmortems/{key}", change, headers={"If-Match": f'"{version}"'})
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Renamed" and body["version"] > version
    assert body["summary"] == WHOLE["summary"]  # untouched fields stay
    assert len(body["lessons"]) == 2


def test_patch_based_on_an_old_version_is_a_conflict_and_saves_nothing(app, db, author) -> None:
    api = Api(app, author[1])
    key = api.post("/api/v1/postmortems", WHOLE).get_json()["key"]
    version = api.get(f"/api/v1/postmortems/{key}").get_json()["version"]
    assert (
        api.patch(f"/api/v1/postmortems/{key}", {"title": "A", "version": version}).status_code
        == 200
    )
    stale = api.patch(f"/api/v1/postmortems/{key}", {"title": "B", "version": version})
    assert stale.status_code == 409
    assert api.get(f"/api/v1/postmortems/{key}").get_json()["title"] == "A"


def test_patch_without_a_version_is_refused(app, db, author) -> None:
    api = Api(app, author[1])
    key = api.post("/api/v1/postmortems", WHOLE).get_json()["key"]
    response = api.patch(f"/api/v1/postmortems/{key}", {"title": "A"})
    assert response.status_code == 422 and "version" in response.get_json()["fields"]


def test_the_workflow_through_the_api(app, db, author) -> None:
    api = Api(app, author[1])
    key = api.post("/api/v1/postmortems", WHOLE).get_json()["key"]
    assert api.post(f"/api/v1/postmortems/{key}/publish").status_code == 409  # a draft
    assert api.post(f"/api/v1/postmortems/{key}/submit").get_json()["status"] == "IN_REVIEW"
    assert api.post(f"/api/v1/postmortems/{key}/publish").status_code == 403  # its author
    reviewer = Api(app, user_with_token(Role.REVIEWER)[1])
    refused = reviewer.post(f"/api/v1/postmortems/{key}/send-back", {})
    assert refused.status_code == 422  # sending back needs a comment
    published = reviewer.post(f"/api/v1/postmortems/{key}/publish", {"comment": "Clear."})
    assert published.status_code == 200 and published.get_json()["status"] == "PUBLISHED"


def test_publishing_lists_what_is_missing(app, db, author) -> None:
    api = Api(app, author[1])
    bare = {"title": "Bare", "started_at": "2021-01-01T00:00:00Z"}
    key = api.post("/api/v1/postmortems", bare).get_json()["key"]
    api.post(f"/api/v1/postmortems/{key}/submit")
    response = Api(app, user_with_token(Role.REVIEWER)[1]).post(
        f"/api/v1/postmortems/{key}/publish"
    )
    assert response.status_code == 422
    assert "Write at least one lesson." in response.get_json()["fields"]["publish"]


def test_a_reader_may_not_file(app, db) -> None:
    response = Api(app, user_with_token(Role.READER)[1]).post("/api/v1/postmortems", WHOLE)
    assert response.status_code == 403
    assert count(db, Incident) == 0


def test_a_reader_may_not_patch_a_published_postmortem(app, db) -> None:
    incident = make_incident("Seen by all", status=IncidentStatus.PUBLISHED)
    api = Api(app, user_with_token(Role.READER)[1])
    response = api.patch(f"/api/v1/postmortems/{incident.key}", {"title": "x", "version": 1})
    assert response.status_code == 403


# Who sees what.


@pytest.fixture
def restricted(db):
    team = make_team("Imaging", [(date(2024, 1, 1), 4)])
    incident = with_parts(
        make_incident(
            "Restricted patient data",
            utc(2024, 3, 1),
            team=team,
            is_restricted=True,
            status=IncidentStatus.PUBLISHED,
        ),
        make_guard("Shared guard"),
    )
    make_incident("Open to all", utc(2024, 2, 1), status=IncidentStatus.PUBLISHED)
    db.commit()
    return incident


def test_a_restricted_postmortem_is_hidden_from_outsiders(app, db, restricted) -> None:
    api = Api(app, user_with_token(Role.REVIEWER)[1])
    listed = api.get("/api/v1/postmortems").get_json()
    assert [i["title"] for i in listed["items"]] == ["Open to all"] and listed["total"] == 1
    assert api.get(f"/api/v1/postmortems/{restricted.key}").status_code == 404
    assert api.get(f"/api/v1/postmortems?team={restricted.team_id}").get_json()["total"] == 0
    guard_id = restricted.action_items[0].guards[0].id
    assert api.get(f"/api/v1/guards/{guard_id}").get_json()["postmortems"] == []


def test_a_restricted_postmortem_is_shown_to_its_team(app, db, restricted) -> None:
    api = Api(app, user_with_token(Role.READER, team_id=restricted.team_id)[1])
    assert api.get("/api/v1/postmortems").get_json()["total"] == 2
    assert api.get(f"/api/v1/postmortems/{restricted.key}").status_code == 200


def test_the_list_filters_and_pages_as_the_list_page_does(app, db, app_config) -> None:
    for n in range(23):
        make_incident(
            f"Incident {n}",
            utc(2021, 1, 1 + n),
            status=IncidentStatus.PUBLISHED,
            severity=[Severity.SEV1, Severity.SEV2][n % 2],
        )
    api = Api(app, user_with_token(Role.READER)[1])
    second = api.get("/api/v1/postmortems?page=2").get_json()
    assert (second["total"], second["pages"], len(second["items"])) == (23, 2, 3)
    assert api.get("/api/v1/postmortems?severity=SEV1").get_json()["total"] == 12
    assert api.get("/api/v1/postmortems?year=2022").get_json()["total"] == 0
    bad = api.get("/api/v1/postmortems?severity=LOUD&page=0")
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"severity", "page"}


@pytest.mark.parametrize("year", [1970, 2100])
def test_the_first_and_last_years_filter_without_error(berlin, app, db, year) -> None:
    make_incident("Late", utc(2100, 12, 31, 12), status=IncidentStatus.PUBLISHED)
    make_incident("Early", utc(1970, 1, 1, 12), status=IncidentStatus.PUBLISHED)
    api = Api(app, user_with_token(Role.READER)[1])
    listed = api.get(f"/api/v1/postmortems?year={year}").get_json()
    assert [i["title"] for i in listed["items"]] == ["Early" if year == 1970 else "Late"]


def test_search_finds_what_the_token_may_see_with_its_key(app, db, restricted) -> None:
    outsider = Api(app, user_with_token(Role.REVIEWER)[1])
    assert outsider.get("/api/v1/search?q=patient").get_json()["total"] == 0
    admin = Api(app, user_with_token(Role.ADMIN)[1])
    found = admin.get("/api/v1/search?q=patient").get_json()
    assert restricted.key in [hit["incident_key"] for hit in found["results"]]
    assert admin.get("/api/v1/search?q=patient&kind=nonsense").status_code == 422
