"""External references whose source states no start (kept unknown, never made up) or a start
before 1970 (kept as stated): every page, list, search, reading path, booklet, the API, the
reports and the export round trip cope with them. Our own incidents still need a start."""

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from models import Incident, IncidentStatus, Role
from postmortems.incidents.service import (
    ExternalSource,
    IncidentError,
    IncidentValues,
    create_incident,
    update_incident,
)
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.transfer.export_files import export_files
from postmortems.transfer.import_files import import_files
from tests.api.helpers import Api, token_for
from tests.conftest import make_user
from tests.factories import make_incident, utc
from tests.transfer.conftest import invoke, read_tree


def external(title: str, started_at, external_id: str, **fields) -> Incident:
    return create_incident(
        IncidentValues(title=title, started_at=started_at, **fields),
        author=None,
        status=IncidentStatus.PUBLISHED,
        record=False,
        key_kind="EXT",
        source=ExternalSource("icco", external_id, "Acme", "https://example.com/" + external_id),
    )


@pytest.fixture
def references(db) -> dict[str, Incident]:
    """Our own postmortem, and three external references: dated, 1628, start unknown."""
    found = {
        "own": make_incident("Our own outage", utc(2024, 3, 1), status=IncidentStatus.PUBLISHED),
        "dated": external("Dated outage elsewhere", utc(2019, 1, 2), "dated", tags=("queues",)),
        "vasa": external("Warship heels over", utc(1628, 8, 10, 12), "vasa"),
        "unknown": external(
            "Undated cascade failure",
            None,
            "unknown",
            what_happened_md="A cascade failure of the queue brokers.",
            tags=("queues",),
        ),
    }
    db.commit()
    return found


def test_an_unknown_start_gets_a_key_of_year_0000_and_1628_its_own(references) -> None:
    assert references["unknown"].key == "EXT-0000-001"
    assert references["vasa"].key == "EXT-1628-001"
    assert references["unknown"].time_to_resolve is None


def test_our_own_incidents_still_need_a_start_in_1970_2100(db) -> None:
    with pytest.raises(IncidentError) as refused:
        create_incident(IncidentValues(title="No start", started_at=None), author=None)
    assert refused.value.fields == {"started_at": ["When did it start?"]}
    with pytest.raises(IncidentError) as refused:
        create_incident(IncidentValues(title="Old", started_at=utc(1628, 1, 1)), author=None)
    assert "1970" in refused.value.fields["started_at"][0]
    own = make_incident("Ours")
    with pytest.raises(IncidentError):
        update_incident(own, IncidentValues(title="Ours", started_at=None), editor=None)


def test_the_database_refuses_our_own_incident_without_a_start(db) -> None:
    """The CHECK constraint of migration 0013, on SQLite and PostgreSQL alike."""
    with pytest.raises(IntegrityError):
        db.execute(insert(Incident).values(key="PM-2024-900", title="Raw", started_at=None))
    db.rollback()


def test_the_page_of_an_external_reference_says_start_unknown(references, client) -> None:
    for name in ("unknown", "vasa"):
        response = client.get(f"/incidents/{references[name].id}")
        assert response.status_code == 200
    html = client.get(f"/incidents/{references['unknown'].id}").get_data(as_text=True)
    assert "<dt>Started</dt><dd>start unknown</dd>" in html
    vasa = client.get(f"/incidents/{references['vasa'].id}").get_data(as_text=True)
    assert "1628-08-10 12:00" in vasa
    assert client.get(f"/incidents/{references['unknown'].id}/history").status_code == 200
    assert client.get(f"/incidents/{references['unknown'].id}/similar").status_code == 200


def test_an_admin_edits_an_external_reference_and_its_start_stays_unknown(
    references, browser, db
) -> None:
    incident = references["unknown"]
    response = browser.submit_filled(
        f"/incidents/{incident.id}/edit", {"summary": "Brokers fell over one by one"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db.expire_all()
    assert incident.summary == "Brokers fell over one by one" and incident.started_at is None
    own = references["own"]
    refused = browser.submit_filled(f"/incidents/{own.id}/edit", {"started_at": ""})
    assert refused.status_code == 200 and "When did it start?" in refused.get_data(as_text=True)


def test_lists_show_start_unknown_and_put_it_last(references, client) -> None:
    html = client.get("/incidents/?origin=external").get_data(as_text=True)
    keys = ["EXT-2019-001", "EXT-1628-001", "EXT-0000-001"]
    assert [html.find(key) for key in keys] == sorted(html.find(key) for key in keys)
    assert -1 not in [html.find(key) for key in keys]
    assert "start unknown" in html
    assert "not graded" in html and "sev-sev3" not in html
    ours = client.get("/incidents/").get_data(as_text=True)
    assert "EXT-" not in ours and "PM-2024-001" in ours
    assert client.get("/").status_code == 200


def test_search_finds_it(references, client) -> None:
    html = client.get("/search?q=cascade").get_data(as_text=True)
    assert "EXT-0000-001" in html
    data = client.get("/search.json?q=cascade").get_json()
    assert any(hit["incident_key"] == "EXT-0000-001" for hit in data["results"]), data


def test_a_reading_path_and_its_booklets_with_an_unknown_start(references, client, db) -> None:
    path = create_path(PathValues("Other people's failures"), by=None)
    for name in ("unknown", "vasa", "own"):
        add_item(path, references[name].key, f"Why {name}", curator=None)
    db.commit()
    assert client.get(f"/paths/{path.id}").status_code == 200
    html = client.get(f"/paths/{path.id}/booklet.html").get_data(as_text=True)
    assert "start unknown" in html and "1628-08-10 12:00" in html
    assert html.count("not graded by the source") == 2  # the two external references
    markdown = client.get(f"/paths/{path.id}/booklet.md").get_data(as_text=True)
    assert "start unknown" in markdown
    pdf = client.get(f"/paths/{path.id}/booklet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_api_gives_an_unknown_start_as_null(references, app, db) -> None:
    api = Api(app, token_for(make_user(Role.READER, "reader@example.com")))
    body = api.get("/api/v1/postmortems/EXT-0000-001").get_json()
    assert body["started_at"] is None
    assert body["severity"] is None  # not graded by the source, not the SEV3 stored
    assert api.get("/api/v1/postmortems/PM-2024-001").get_json()["severity"] == "SEV3"
    assert (
        api.get("/api/v1/postmortems/EXT-1628-001")
        .get_json()["started_at"]
        .startswith("1628-08-10T12:00")
    )
    assert api.get("/api/v1/search?q=cascade").status_code == 200


def test_reports_ignore_external_references_and_do_not_stumble(references, client) -> None:
    for url in (
        "/reports/trends?from=1000-01-01&to=2026-12-31",
        "/reports/trends.json?from=2000-01-01&to=2026-12-31",
        "/reports/quarterly/2024Q1.json",
        "/reports/quarterly/2024Q1",
        "/lessons",
    ):
        response = client.get(url)
        assert response.status_code in (200, 400), (url, response.status_code)
    data = client.get("/reports/quarterly/2024Q1.json").get_json()
    assert "EXT-" not in str(data)


def test_similar_incidents_rank_an_unknown_start_after_the_dated(references, client, db) -> None:
    tagged = external("Brokers lost", None, "again", tags=("queues",))
    db.commit()
    html = client.get(f"/incidents/{tagged.id}/similar").get_data(as_text=True)
    # Both share the tag alone: the dated one first, the one of unknown start after it.
    assert -1 < html.find("EXT-2019-001") < html.find("EXT-0000-001")
    assert "start unknown" in html


def test_the_export_round_trip_keeps_unknown_and_old_starts(
    references, runner, other_app, tmp_path
) -> None:
    files = export_files()
    assert "started_at: null" in files["postmortems/EXT-0000-001.md"]
    assert "started_at: '1628-08-10T12:00:00Z'" in files["postmortems/EXT-1628-001.md"]
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["export", str(first)]).exit_code == 0
    imported = invoke(other_app, "import", str(first))
    assert imported.exit_code == 0, imported.output
    assert "skipped 0" in imported.output
    assert invoke(other_app, "export", str(second)).exit_code == 0
    assert read_tree(first) == read_tree(second)


def test_our_own_postmortem_file_without_a_start_is_refused(db) -> None:
    text = "---\nformat: 1\nkey: PM-2024-001\ntitle: No start\n---\n"
    summary = import_files({"postmortems/PM-2024-001.md": text})
    assert summary.failed == [("postmortems/PM-2024-001.md:2", "started_at: missing")]
