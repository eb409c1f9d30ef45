"""`flask import` writes through the filing service: what the service refuses comes back with
the file and the line of what it refused (the postmortem's own fields at its first line, a
part at its own line), worded as the service words it, and nothing of that file is kept."""

from pathlib import Path

from sqlalchemy import select

from models import ImpactEstimate, Incident, IncidentRevision

FILE = """---
format: 1
key: PM-2024-001
title: {title}
started_at: '2024-01-02T03:04:05Z'
resolved_at: {resolved_at}
lessons:
- group: TECHNICAL
  text_md: Keep it.
impacts:
- kind: DIRECT_COST
  currency: EUR
  low: '{low}'
  likely: '20'
  high: '30'
---
"""


def postmortem(
    title: str = "Good one", resolved_at: str = "'2024-01-02T05:00:00Z'", low: str = "10"
) -> str:
    return FILE.format(title=title, resolved_at=resolved_at, low=low)


def import_one(runner, folder: Path, text: str):
    path = folder / "postmortems" / "PM-2024-001.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["import", str(folder)])


def problem_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("postmortems/"))


def test_a_part_the_service_refuses_is_named_with_its_own_line(runner, db, tmp_path) -> None:
    result = import_one(runner, tmp_path, postmortem(low="25"))
    assert result.exit_code == 1
    assert problem_line(result.output) == (
        "postmortems/PM-2024-001.md:11: refused: low: Low cannot be above likely."
    ), result.output
    assert db.scalar(select(Incident.id)) is None


def test_the_postmortems_own_refused_field_is_named_at_its_first_line(runner, db, tmp_path) -> None:
    result = import_one(runner, tmp_path, postmortem(resolved_at="'2024-01-01T00:00:00Z'"))
    assert result.exit_code == 1
    line = problem_line(result.output)
    assert line.startswith("postmortems/PM-2024-001.md:2: refused: resolved_at: "), result.output
    assert db.scalar(select(Incident.id)) is None


def test_an_imported_postmortem_keeps_its_key_and_one_revision_says_imported(
    runner, db, tmp_path
) -> None:
    result = import_one(runner, tmp_path, postmortem())
    assert result.exit_code == 0, result.output
    incident = db.scalar(select(Incident).where(Incident.key == "PM-2024-001"))
    assert incident is not None
    summaries = db.scalars(
        select(IncidentRevision.summary).where(IncidentRevision.incident_id == incident.id)
    )
    assert list(summaries) == ["imported"]


def test_a_changed_file_with_a_refused_part_leaves_the_saved_postmortem_as_it_was(
    runner, db, tmp_path
) -> None:
    assert import_one(runner, tmp_path, postmortem()).exit_code == 0
    result = import_one(runner, tmp_path, postmortem(title="Changed", low="25"))
    assert result.exit_code == 1
    assert problem_line(result.output) == (
        "postmortems/PM-2024-001.md:11: refused: low: Low cannot be above likely."
    ), result.output
    db.expire_all()
    assert db.scalar(select(Incident.title)) == "Good one"
    assert db.scalar(select(ImpactEstimate.low)) == 10


def test_a_changed_file_replaces_the_parts_and_one_revision_says_updated(
    runner, db, tmp_path
) -> None:
    assert import_one(runner, tmp_path, postmortem()).exit_code == 0
    result = import_one(runner, tmp_path, postmortem(title="Changed", low="15"))
    assert result.exit_code == 0, result.output
    assert "updated 1" in result.output
    db.expire_all()
    assert db.scalar(select(Incident.title)) == "Changed"
    assert list(db.scalars(select(ImpactEstimate.low))) == [15]
    summaries = db.scalars(select(IncidentRevision.summary).order_by(IncidentRevision.number))
    assert list(summaries) == ["imported", "updated from an import"]
