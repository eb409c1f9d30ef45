"""The public collections (../shared/datasets) imported as external reference postmortems:
every file accounted for, nothing duplicated on a second run, and never counted as ours."""

import json
import re
import shutil

import pytest
from sqlalchemy import func, select

from models import ActionItem, Incident, IncidentStatus
from postmortems.demo import load_demo_data
from tests.conftest import require
from tests.factories import utc
from tests.transfer.conftest import SHARED

ICCO = SHARED / "icco-postmortems" / "data"
MOJ = SHARED / "moj-cloud-platform" / "incidents"
# icco: 242 files, every one imported: 50 state no date for the incident at all (their start
# stays unknown), two a start before 1970 (the Vasa, 1628; Apollo 11, 1969), kept as stated.
ICCO_IMPORTED = 242
ICCO_START_UNKNOWN = 50
MOJ_IMPORTED = 39


@pytest.fixture(autouse=True)
def shared_data() -> None:
    if not ICCO.is_dir() or not MOJ.is_dir():
        require("REQUIRE_SHARED_DATA", "the public datasets in ../shared/datasets are absent")


def summary_line(output: str) -> str:
    return re.findall(r"^imported \d+, updated \d+, skipped \d+.*$", output, re.M)[-1]


def test_both_collections_import_with_every_file_accounted_for(runner, db) -> None:
    icco = runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    assert icco.exit_code == 0, icco.output
    assert summary_line(icco.output) == f"imported {ICCO_IMPORTED}, updated 0, skipped 0"
    unknown = db.scalars(select(Incident).where(Incident.started_at.is_(None))).all()
    assert len(unknown) == ICCO_START_UNKNOWN
    for incident in unknown:  # said so on the page, not left out silently
        assert "the source states no date for the incident; none is made up" in (
            incident.what_happened_md
        )
        assert incident.key.startswith("EXT-0000-") and not incident.started_is_estimated
    moj = runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    assert moj.exit_code == 0, moj.output
    assert summary_line(moj.output) == f"imported {MOJ_IMPORTED}, updated 0, skipped 0"
    external = db.scalar(select(func.count()).where(Incident.source_collection.is_not(None)))
    assert external == ICCO_IMPORTED + MOJ_IMPORTED
    keys = db.scalars(select(Incident.key)).all()
    assert all(key.startswith("EXT-") for key in keys)  # our own numbering is left alone


def test_importing_again_creates_nothing(runner, db) -> None:
    runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    again = runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    assert summary_line(again.output) == "imported 0, updated 0, skipped 242"
    assert f"skipped {ICCO_IMPORTED} files: unchanged since the last import (" in again.output
    assert "updated 0" in again.output
    again = runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    assert summary_line(again.output) == "imported 0, updated 0, skipped 39"
    assert db.scalar(select(func.count()).select_from(Incident)) == ICCO_IMPORTED + MOJ_IMPORTED


def test_a_changed_source_file_updates_its_postmortem(runner, db, tmp_path) -> None:
    name = "2023-09-18-lack-of-diskspace.html.md.erb"
    shutil.copy(MOJ / name, tmp_path / name)
    runner.invoke(args=["import", str(tmp_path), "--format", "moj"])
    text = (
        (tmp_path / name)
        .read_text()
        .replace("- **Review actions**:", "- **Review actions**:\n  - Buy bigger disks")
    )
    (tmp_path / name).write_text(text)
    again = runner.invoke(args=["import", str(tmp_path), "--format", "moj"])
    assert summary_line(again.output) == "imported 0, updated 1, skipped 0"
    incident = db.scalars(select(Incident)).one()
    assert [a.title for a in incident.action_items][0] == "Buy bigger disks"
    assert len(incident.action_items) == 8
    assert [r.summary for r in incident.revisions] == ["updated from moj"]  # one for the file


def test_moj_key_events_are_london_time_and_review_actions_become_action_items(runner, db) -> None:
    runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    incident = db.scalar(
        select(Incident).where(Incident.external_id == "2023-09-18-lack-of-diskspace")
    )
    assert incident.started_at == utc(2023, 9, 18, 12, 42)  # 13:42 BST
    assert incident.started_is_estimated  # "first detected": the fault began then or earlier
    assert incident.mitigated_at == utc(2023, 9, 18, 16, 54)
    assert incident.resolved_at == utc(2023, 9, 20, 18, 18)
    assert [e.at for e in incident.timeline][0] == utc(2023, 9, 18, 12, 42)
    assert len(incident.action_items) == 7
    assert "Time to repair (as the source states it): 4h 12m" in incident.what_happened_md
    assert incident.source_organisation == "UK Ministry of Justice"
    assert incident.status is IncidentStatus.PUBLISHED


def test_a_typo_in_a_moj_date_stays_in_the_timeline_only(runner, db) -> None:
    runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    incident = db.scalar(
        select(Incident).where(Incident.external_id == "2023-01-05-circleci-security-incident")
    )
    # "Resolved 2022-02-01" lies before the start (2023-01-04): kept as an event, said so.
    assert incident.resolved_at is None
    assert "before an earlier step as the source gives it" in incident.what_happened_md
    assert utc(2022, 2, 1, 10, 30) in [e.at for e in incident.timeline]


def test_icco_without_a_start_time_takes_the_publication_date_as_an_estimate(runner, db) -> None:
    runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    estimated = db.scalars(select(Incident).where(Incident.started_is_estimated)).all()
    assert estimated
    for incident in estimated:
        assert "the date shown is the source's" in incident.what_happened_md
    stated = db.scalar(
        select(Incident).where(Incident.external_id == "01494547-7ee9-4169-a0c0-d921fa309d83")
    )
    assert stated.started_at == utc(2007, 12, 5, 22, 4) and not stated.started_is_estimated
    assert stated.resolved_at == utc(2007, 12, 6, 6, 8)
    assert stated.source_organisation == "CCP Games"
    assert stated.source_url.startswith("http://community.eveonline.com/")
    assert {t.name for t in stated.tags} == {"cloud"}


def test_a_start_before_1970_is_kept_as_the_source_states_it(runner, db) -> None:
    runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    vasa = db.scalar(select(Incident).where(Incident.title.contains("Vasa")))
    assert vasa.started_at == utc(1628, 8, 10, 12) and not vasa.started_is_estimated
    assert vasa.resolved_at == utc(1628, 8, 10, 12, 20)
    assert vasa.key.startswith("EXT-1628-")
    apollo = db.scalar(
        select(Incident).where(Incident.external_id == "2dcd8790-c8f7-4371-a0ac-849413aa4166")
    )
    assert apollo.started_at == utc(1969, 7, 20, 20, 8, 55) and not apollo.started_is_estimated


def test_the_page_names_the_organisation_and_links_the_source(runner, db, client) -> None:
    runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    incident_id = db.scalar(
        select(Incident.id).where(Incident.external_id == "01494547-7ee9-4169-a0c0-d921fa309d83")
    )
    html = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "External reference:</strong> CCP Games" in html
    assert 'href="http://community.eveonline.com/news/dev-blogs/about-the-boot.ini-issue/"' in html
    assert "not graded by the source" in html and "Company at the start" not in html
    assert 'href="/incidents/?tag=cloud&amp;origin=external"' in html


def test_external_references_never_count_as_ours(runner, db, client) -> None:
    load_demo_data()
    db.commit()
    urls = [
        "/reports/trends.json?from=2000-01-01&to=2026-12-31",
        "/reports/quarterly/2020Q3.json",
        "/reports/quarterly/2023Q3.json",
    ]

    def figures(url: str) -> dict:
        data = client.get(url).get_json()
        data.pop("computed_at", None)
        return data

    before = {url: figures(url) for url in urls}
    listed = client.get("/incidents/").get_data(as_text=True)
    runner.invoke(args=["import", str(ICCO), "--format", "icco"])
    runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    assert {url: figures(url) for url in urls} == before
    assert _count_line(client.get("/incidents/").get_data(as_text=True)) == _count_line(listed)
    external = client.get("/incidents/?origin=external").get_data(as_text=True)
    assert "EXT-20" in external and "PM-2020-001" not in external


def _count_line(html: str) -> str:
    return json.dumps(re.findall(r"\b\d+ postmortems?\b", html))


def test_action_items_of_external_references_do_not_reach_anyones_desk(runner, db) -> None:
    runner.invoke(args=["import", str(MOJ), "--format", "moj"])
    assert db.scalar(select(func.count()).where(ActionItem.owner_id.is_not(None))) == 0
