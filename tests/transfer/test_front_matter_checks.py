"""`flask import` checks a file's front matter with the API's models: a nested field's type,
length or enum is refused naming the part and the field, at the field's own line."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from models import ActionItem, ImpactEstimate, Incident
from tests.transfer.test_import_bad_files import problem_line, write

HEAD = """---
format: 1
key: PM-2024-001
title: Checked
started_at: '2024-01-02T03:04:05Z'
"""
IMPACT = """impacts:
- kind: DIRECT_COST
  currency: EUR
  likely: {likely}
"""
ACTION = """action_items:
- title: Add the test
  group: TECHNICAL
  type: PREVENTIVE
  due_on: {due_on}
"""


def run(runner, tmp_path, front_matter: str):
    folder = write(tmp_path / "in", {"postmortems/a.md": HEAD + front_matter + "---\n"})
    return runner.invoke(args=["import", str(folder)])


def test_an_unquoted_decimal_amount_is_refused_at_its_line_naming_the_impact(
    runner, db, tmp_path
) -> None:
    result = run(runner, tmp_path, IMPACT.format(likely="12.50"))
    assert result.exit_code == 1
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:9: impact 1 likely: write the number in quotes, as exact text ('12.50')"
    )
    assert db.scalar(select(Incident.id)) is None


def test_a_whole_number_amount_imports_exactly(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, IMPACT.format(likely="400000"))
    assert result.exit_code == 0, result.output
    assert db.scalar(select(ImpactEstimate.likely)) == Decimal("400000")


def test_an_impact_kind_outside_the_enum_is_refused_at_its_line(runner, db, tmp_path) -> None:
    impacts = IMPACT.format(likely="'1'") + "- kind: COSMIC\n  likely: '2'\n"
    result = run(runner, tmp_path, impacts)
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/a.md")
    assert line.startswith("postmortems/a.md:10: impact 2 kind: 'COSMIC' is not one of"), line
    assert "'DIRECT_COST'" in line


def test_an_action_items_impossible_date_is_refused_at_its_line(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, ACTION.format(due_on="'2024-02-30'"))
    assert result.exit_code == 1
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:10: action item 1 due_on: '2024-02-30' is not a date (2020-08-17)"
    )
    assert db.scalar(select(ActionItem.id)) is None


def test_an_unquoted_impossible_date_is_refused_at_its_line(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, ACTION.format(due_on="2024-02-30"))
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/a.md")
    assert line.startswith("postmortems/a.md:10: '2024-02-30' is not a date"), result.output


def test_an_unknown_field_in_a_part_is_named_with_its_part(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, ACTION.format(due_on="2024-03-01") + "  colour: red\n")
    assert result.exit_code == 1
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:11: action item 1: unknown field 'colour'"
    )


def test_an_action_items_account_is_named_owner_user_in_a_file(runner, db, tmp_path) -> None:
    owner = ACTION.format(due_on="2024-03-01") + "  owner_email: someone@example.com\n"
    result = run(runner, tmp_path, owner)
    assert result.exit_code == 1
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:11: action item 1: unknown field 'owner_email'"
    )


def test_a_title_over_the_api_limit_is_refused_at_its_line(runner, db, tmp_path) -> None:
    folder = write(
        tmp_path / "in",
        {"postmortems/a.md": HEAD.replace("title: Checked", f"title: {'t' * 201}") + "---\n"},
    )
    result = runner.invoke(args=["import", str(folder)])
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:4: title: at most 200 characters, found 201"
    )


def test_a_time_written_without_an_offset_is_read_in_the_configured_zone(
    runner, app, db, tmp_path
) -> None:
    app.config["TIMEZONE"] = "Europe/Moscow"
    head = HEAD.replace("'2024-01-02T03:04:05Z'", "'2024-01-02T03:04:05'")
    folder = write(tmp_path / "in", {"postmortems/a.md": head + "---\n"})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(Incident.started_at)) == datetime(2024, 1, 2, 0, 4, 5, tzinfo=UTC)


def test_a_yaml_set_where_a_field_is_expected_is_refused_not_a_crash(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, "tags: !!set {a: null}\n")
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/a.md")
    assert line == "postmortems/a.md:2: a value of YAML type 'set', which no field holds"


def test_a_key_that_yaml_reads_as_a_date_is_an_unknown_field(runner, db, tmp_path) -> None:
    result = run(runner, tmp_path, "2024-01-01: New year\n")
    assert result.exit_code == 1
    assert problem_line(result.output, "postmortems/a.md") == (
        "postmortems/a.md:6: unknown field '2024-01-01'"
    )
