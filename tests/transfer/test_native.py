"""`flask export` and `flask import` in our own format: the round trip through an empty
database gives the same bytes, and bad files are named with their line and reason."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    ActionStatus,
    ActionType,
    GuardKind,
    ImpactKind,
    Incident,
    IncidentStatus,
    LessonGroup,
    Role,
    User,
)
from postmortems.demo import load_demo_data
from postmortems.incidents.parts import (
    ActionItemValues,
    FactorValues,
    ImpactValues,
    LessonValues,
    NewGuard,
    TimelineEventValues,
    save_part,
)
from postmortems.paths.service import PathValues, add_item, create_path
from postmortems.transfer.export_files import export_files
from postmortems.transfer.write_postmortem import set_source
from tests.conftest import Browser, make_user, sign_in
from tests.factories import factor_named, make_incident, make_team, utc
from tests.transfer.conftest import invoke, read_tree


@pytest.fixture
def rich(db) -> None:
    """The demo, and a postmortem using every field: people, restriction, recurrence, money."""
    load_demo_data()
    team = make_team("Platform", [(date(2021, 1, 1), 5)])
    owner = make_user(Role.AUTHOR, "owner@example.com", team_id=team.id)
    reader = make_user(Role.READER, "reader@example.com")
    first = db.scalar(select(Incident).where(Incident.key == "PM-2020-001"))
    incident = make_incident(
        "Billing job ran twice: «двойное» списание",
        started_at=utc(2021, 3, 4, 5, 6, 7),
        summary="Line one",
        detected_at=utc(2021, 3, 4, 6),
        mitigated_at=utc(2021, 3, 4, 7),
        resolved_at=utc(2021, 3, 5, 8),
        resolved_is_estimated=True,
        team_id=team.id,
        tags=["billing", "cron"],
        is_near_miss=True,
        exclude_from_metrics=True,
        recurrence_of_id=first.id,
        owner_id=owner.id,
        is_restricted=True,
        access_user_ids=[reader.id],
        what_happened_md="Two lines\nwith a trailing space \n\n## a heading inside\n",
        got_lucky_md="<!-- a comment -->\n",
        status=IncidentStatus.IN_REVIEW,
        author_id=owner.id,
    )
    lock = ActionItemValues(
        "Lock the job",
        LessonGroup.TECHNICAL,
        ActionType.PREVENTIVE,
        owner_id=owner.id,
        due_on=date(2021, 4, 1),
        tracker_url="https://t/1",
        new_guard=NewGuard("Job lock test", GuardKind.AUTOMATED_TEST),
    )
    rewrite = ActionItemValues(
        "Rewrite billing",
        LessonGroup.TECHNICAL,
        ActionType.CORRECTIVE,
        status=ActionStatus.WONT_DO,
        wont_do_reason="Too big",
        decided_on=date(2021, 3, 6),
    )
    refunds = ImpactValues(
        ImpactKind.DIRECT_COST,
        Decimal("12345.67"),
        Decimal("12345.670000"),
        Decimal("99999999.999999"),
        currency="EUR",
        method_note="refunds",
    )
    for part in [
        TimelineEventValues(utc(2021, 3, 4, 6), "Alert: `billing_double`"),
        TimelineEventValues(utc(2021, 3, 4, 6), "Same minute, second event"),
        FactorValues(factor_named("Missing tests").id, "none", False),
        FactorValues(factor_named("Fatigue").id, "night shift", True),
        refunds,
        LessonValues(LessonGroup.PERSONAL, "Sleep."),
        lock,
        rewrite,
    ]:
        save_part(incident, part, record=False)
    path = create_path(PathValues("First week", "Read *these*", team.id, True), by=owner)
    add_item(path, "PM-2021-001", "the billing one", curator=None)
    add_item(path, "PM-2020-001", "", curator=None)
    external = make_incident("Another company's outage", started_at=utc(2019, 1, 2))
    set_source(
        external,
        {"collection": "icco", "external_id": "abc", "organisation": "Acme", "url": "https://x"},
    )
    db.commit()


def test_export_import_export_gives_the_same_bytes(rich, runner, other_app, tmp_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    result = runner.invoke(args=["export", str(first)])
    assert result.exit_code == 0, result.output
    assert "Exported 5 postmortems" in result.output
    imported = invoke(other_app, "import", str(first))
    assert imported.exit_code == 0, imported.output
    assert "skipped 0" in imported.output
    again = invoke(other_app, "export", str(second))
    assert again.exit_code == 0, again.output
    assert read_tree(first) == read_tree(second)


def test_export_is_deterministic_and_shows_its_types_plainly(rich, db) -> None:
    files = export_files()
    assert files == export_files()
    text = files["postmortems/PM-2021-001.md"]
    assert "started_at: '2021-03-04T05:06:07Z'" in text
    assert "likely: '12345.670000'" in text or "likely: '12345.67'" in text
    assert "high: '99999999.999999'" in text
    assert "recurrence_of: PM-2020-001" in text and "- reader@example.com" in text
    assert "collection: icco" in export_files()["postmortems/PM-2019-001.md"]
    paths = files["reading_paths.yaml"]
    assert "- key: PM-2021-001\n    note_md: the billing one\n  - key: PM-2020-001" in paths
    assert "<!-- section: what_happened_md -->\n## What happened\n\nTwo lines" in text


def test_users_are_exported_without_password_hashes(db) -> None:
    make_user(Role.ADMIN, "root@example.com", password="a long enough password")
    db.commit()
    users = export_files()["users.yaml"]
    assert "root@example.com" in users
    assert "password" not in users and "scrypt" not in users


def test_imported_accounts_get_a_new_password(rich, other_app, tmp_path, runner) -> None:
    runner.invoke(args=["export", str(tmp_path / "out")])
    invoke(other_app, "import", str(tmp_path / "out"))
    with other_app.app_context():
        from postmortems.db import session

        user = session.scalar(select(User).where(User.email == "owner@example.com"))
        assert user is not None and user.role is Role.AUTHOR and user.team.name == "Platform"
        assert not user.check_password("")


GOOD = """---
format: 1
key: PM-2024-001
title: Good one
started_at: '2024-01-02T03:04:05Z'
lessons:
- group: TECHNICAL
  text_md: Keep it.
---
"""


def bad(old: str, new: str) -> str:
    """GOOD with `old` written as `new`, under another key."""
    return GOOD.replace(old, new).replace("001", "009")


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("no front matter\n", "bad.md:1", "no front matter"),
        ("---\nformat: 1\ntitle: [unclosed\n---\n", "bad.md:", "broken YAML"),
        (bad("title: Good one", "title: Bad\ncolour: red"), "bad.md:5", "unknown field 'colour'"),
        (bad("2024-01-02T03:04:05Z", "2024-02-30T10:00:00Z"), "bad.md:5", "is not a date and time"),
        (bad("TECHNICAL", "COSMIC"), "bad.md:7", "'COSMIC' is not one of"),
        (bad("text_md: Keep it.", "text_md: ' '"), "bad.md:7", "Write the lesson"),
        (
            GOOD.replace("001", "009") + "<!-- section: nonsense -->\n## Nonsense\n\nText\n",
            "bad.md:10",
            "unknown section 'nonsense'",
        ),
    ],
)
def test_a_bad_file_is_named_with_line_and_reason_and_the_rest_imports(
    runner, db, tmp_path, text, where, reason
) -> None:
    folder = tmp_path / "in" / "postmortems"
    folder.mkdir(parents=True)
    (folder / "good.md").write_text(GOOD)
    (folder / "bad.md").write_text(text)
    result = runner.invoke(args=["import", str(tmp_path / "in")])
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "bad.md" in line)
    assert line.startswith(f"postmortems/{where}") and reason in line, result.output
    assert "imported 1, updated 0, skipped 0, failed 1" in result.output
    keys = set(db.scalars(select(Incident.key)))
    assert keys == {"PM-2024-001"}  # the refused file left nothing half-written


def test_importing_the_same_export_again_adds_nothing(rich, runner, tmp_path, db) -> None:
    runner.invoke(args=["export", str(tmp_path / "out")])
    before = db.scalar(select(func.count()).select_from(Incident))
    again = runner.invoke(args=["import", str(tmp_path / "out")])
    assert "imported 0" in again.output
    assert "skipped postmortems/PM-2021-001.md: unchanged since the last import" in again.output
    assert "updated 0" in again.output
    assert db.scalar(select(func.count()).select_from(Incident)) == before


def test_an_admin_downloads_the_export_as_a_zip(rich, client, db) -> None:
    assert 'href="/transfer/"' in client.get("/audit/").get_data(as_text=True)
    response = Browser(client).submit("/transfer/", {}, action="/transfer/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    files = {n.removeprefix("postmortems-export/"): archive.read(n) for n in archive.namelist()}
    assert files == {name: text.encode() for name, text in export_files().items()}


def test_only_admins_see_the_export_page(app, db) -> None:
    author = make_user(Role.AUTHOR)
    db.commit()
    client = sign_in(app.test_client(), author)
    assert client.get("/transfer/").status_code == 403
    assert client.get("/audit/").status_code == 403


def test_a_bad_yaml_file_is_named_and_the_postmortems_still_import(runner, db, tmp_path) -> None:
    folder = tmp_path / "in"
    (folder / "postmortems").mkdir(parents=True)
    (folder / "postmortems" / "good.md").write_text(GOOD)
    (folder / "teams.yaml").write_text("format: 1\nteams:\n- name: Core\n  size: 3\n")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    assert "teams.yaml:4: unknown field 'size'" in result.output
    assert "imported 1, updated 0, skipped 0, failed 1" in result.output
    assert db.scalar(select(func.count()).select_from(Incident)) == 1


def test_the_list_answers_an_unknown_origin_with_a_message(client) -> None:
    assert client.get("/incidents/?origin=martian").status_code == 400
    assert client.get("/incidents/?origin=external").status_code == 200


def test_a_changed_file_updates_its_postmortem_and_the_rest_are_unchanged(
    rich, runner, tmp_path, db
) -> None:
    out = tmp_path / "out"
    runner.invoke(args=["export", str(out)])
    changed = out / "postmortems" / "PM-2021-001.md"
    text = changed.read_text()
    text = text.replace("title: 'Billing job ran twice", "title: 'Billing job ran three times")
    text = text.replace(
        "- group: PERSONAL\n  text_md: Sleep.", "- group: PERSONAL\n  text_md: Rest."
    )
    text = text.replace("severity: SEV3", "severity: SEV1")
    changed.write_text(text)
    revisions = len(db.scalar(select(Incident).where(Incident.key == "PM-2021-001")).revisions)
    again = runner.invoke(args=["import", str(out)])
    assert again.exit_code == 0, again.output
    assert "imported 0, updated 1," in again.output
    assert "skipped postmortems/PM-2020-001.md: unchanged since the last import" in again.output
    db.expire_all()
    incident = db.scalar(select(Incident).where(Incident.key == "PM-2021-001"))
    assert incident.title.startswith("Billing job ran three times")
    assert [lesson.text_md for lesson in incident.lessons] == ["Rest."]
    assert len(incident.timeline) == 2 and len(incident.action_items) == 2
    assert incident.action_items[0].guards[0].name == "Job lock test"
    assert len(incident.revisions) == revisions + 1  # one revision for the whole file
    assert export_files()["postmortems/PM-2021-001.md"] == text  # the file, as it now is
    third = runner.invoke(args=["import", str(out)])
    assert "imported 0, updated 0," in third.output


def test_an_update_that_breaks_a_rule_leaves_the_postmortem_as_it_was(
    rich, runner, tmp_path, db
) -> None:
    out = tmp_path / "out"
    runner.invoke(args=["export", str(out)])
    changed = out / "postmortems" / "PM-2021-001.md"
    before = changed.read_text()
    changed.write_text(before.replace("text_md: Sleep.", "text_md: ' '"))
    again = runner.invoke(args=["import", str(out)])
    assert again.exit_code == 1
    assert "postmortems/PM-2021-001.md:" in again.output and "Write the lesson" in again.output
    db.expire_all()
    assert export_files()["postmortems/PM-2021-001.md"] == before  # nothing half-written
