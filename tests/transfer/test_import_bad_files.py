"""`flask import` answers for every file: bytes that are not UTF-8, NUL characters, duplicate
keys, two files claiming one postmortem and oversized text are each refused with the file and
line, the other files still import, and the command exits 1."""

from pathlib import Path

from sqlalchemy import func, select

from models import ImpactEstimate, Incident, Team
from postmortems.limits import LONG_TEXT

GOOD = """---
format: 1
key: {key}
title: Good one
started_at: '2024-01-02T03:04:05Z'
lessons:
- group: TECHNICAL
  text_md: Keep it.
---
"""


def good(key: str = "PM-2024-001") -> str:
    return GOOD.format(key=key)


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    return folder


def problem_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name))


def keys(db) -> set[str]:
    return set(db.scalars(select(Incident.key)))


def test_a_file_that_is_not_utf8_is_named_with_its_line_and_byte_offset(
    runner, db, tmp_path
) -> None:
    bad = good("PM-2024-002").replace("title: Good one", "title: Caf\xe9").encode("utf-8")
    bad = bad.replace("Café".encode(), b"Caf\xe9")  # Latin-1, not UTF-8
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    offset = bad.index(b"\xe9")
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:4: not UTF-8 text: byte 0xe9"), result.output
    assert f"at byte offset {offset}" in line
    assert "imported 1, updated 0, skipped 0, failed 1" in result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_yaml_file_that_is_not_utf8_is_refused_and_the_postmortems_still_import(
    runner, db, tmp_path
) -> None:
    teams = b"format: 1\nteams:\n- name: Caf\xe9\n"
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "teams.yaml": teams})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    offset = teams.index(b"\xe9")
    assert f"teams.yaml:3: not UTF-8 text: byte 0xe9 at byte offset {offset}" in result.output
    assert keys(db) == {"PM-2024-001"}
    assert db.scalar(select(func.count()).select_from(Team)) == 0


def test_an_undecodable_file_of_no_known_kind_is_skipped_not_refused(runner, db, tmp_path) -> None:
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "logo.png": b"\x89PNG\xff"})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "skipped logo.png: not a file of this format" in result.output


def test_a_nul_written_as_an_escape_in_a_field_is_refused_with_the_field_and_line(
    runner, db, tmp_path
) -> None:
    bad = good("PM-2024-002").replace("title: Good one", 'title: "Good\\0one"')
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:4: title: a NUL character"), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_nul_in_a_list_of_a_part_is_refused_with_the_field_and_line(runner, db, tmp_path) -> None:
    bad = good("PM-2024-002").replace("text_md: Keep it.", 'text_md: "Keep\\0it."')
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:8: text_md: a NUL character"), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_raw_nul_byte_in_the_front_matter_is_refused_with_its_line(runner, db, tmp_path) -> None:
    bad = good("PM-2024-002").replace("title: Good one", "title: Good\x00one")
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:4: a NUL character"), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_nul_byte_in_a_section_is_refused_with_the_section_and_line(runner, db, tmp_path) -> None:
    body = "<!-- section: analysis_md -->\n## Analysis\n\nFirst line\nsecond\x00line\n"
    folder = write(
        tmp_path / "in",
        {"postmortems/good.md": good(), "postmortems/bad.md": good("PM-2024-002") + body},
    )
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:14: analysis_md: a NUL character"), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_duplicate_key_is_refused_naming_both_lines(runner, db, tmp_path) -> None:
    bad = good("PM-2024-002").replace(
        "title: Good one", "is_restricted: true\ntitle: Good one\nis_restricted: false"
    )
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line == (
        "postmortems/bad.md:6: duplicate field 'is_restricted' (lines 4 and 6): which one is meant?"
    ), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_duplicate_key_inside_a_part_is_refused_naming_both_lines(runner, db, tmp_path) -> None:
    bad = good("PM-2024-002").replace("text_md: Keep it.", "text_md: Keep it.\n  text_md: Or not.")
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith("postmortems/bad.md:9: duplicate field 'text_md' (lines 8 and 9)")
    assert keys(db) == {"PM-2024-001"}


def test_a_duplicate_key_in_a_yaml_file_is_refused(runner, db, tmp_path) -> None:
    teams = "format: 1\nteams:\n- name: Core\n  name: Edge\n"
    folder = write(tmp_path / "in", {"teams.yaml": teams})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    assert "teams.yaml:4: duplicate field 'name' (lines 3 and 4)" in result.output
    assert db.scalar(select(func.count()).select_from(Team)) == 0


def test_two_files_with_one_key_are_both_named_and_neither_is_imported(
    runner, db, tmp_path
) -> None:
    other = good("PM-2024-002").replace("title: Good one", "title: Another")
    folder = write(
        tmp_path / "in",
        {
            "postmortems/a.md": good("PM-2024-002"),
            "postmortems/b.md": other,
            "postmortems/c.md": good("PM-2024-003"),
        },
    )
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    a = problem_line(result.output, "postmortems/a.md")
    b = problem_line(result.output, "postmortems/b.md")
    assert a.startswith("postmortems/a.md:3: key PM-2024-002 is also in postmortems/b.md")
    assert b.startswith("postmortems/b.md:3: key PM-2024-002 is also in postmortems/a.md")
    assert "neither file is imported" in a
    assert "imported 1, updated 0, skipped 0, failed 2" in result.output
    assert keys(db) == {"PM-2024-003"}


def section(size: int) -> str:
    return f"<!-- section: analysis_md -->\n## Analysis\n\n{'x' * size}\n"


def test_a_section_over_the_api_limit_is_refused_with_its_line(runner, db, tmp_path) -> None:
    bad = good("PM-2024-002") + section(LONG_TEXT + 1)
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line == (
        f"postmortems/bad.md:10: analysis_md: at most {LONG_TEXT:,} characters, "
        f"found {LONG_TEXT + 1:,}"
    ), result.output
    assert keys(db) == {"PM-2024-001"}


def test_a_section_is_held_to_the_configured_markdown_limit(runner, app, db, tmp_path) -> None:
    app.config["MARKDOWN_MAX_CHARS"] = 50
    folder = write(tmp_path / "in", {"postmortems/bad.md": good() + section(51)})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    line = problem_line(result.output, "postmortems/bad.md")
    assert line == "postmortems/bad.md:10: analysis_md: at most 50 characters, found 51"
    assert keys(db) == set()


def test_a_section_at_the_api_limit_imports(runner, db, tmp_path) -> None:
    folder = write(tmp_path / "in", {"postmortems/a.md": good() + section(LONG_TEXT)})
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert len(db.scalar(select(Incident.analysis_md))) == LONG_TEXT


def test_a_field_over_the_api_limit_is_refused_with_its_line(runner, db, tmp_path) -> None:
    long = "y" * (LONG_TEXT + 1)
    bad = good("PM-2024-002").replace("text_md: Keep it.", f"text_md: {long}")
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    line = problem_line(result.output, "postmortems/bad.md")
    assert line.startswith(
        f"postmortems/bad.md:8: lesson 1 text_md: At most {LONG_TEXT:,} characters "
        f"({LONG_TEXT + 1:,} given)"
    ), line
    assert keys(db) == {"PM-2024-001"}


def test_who_estimated_an_impact_is_held_to_the_api_limit(runner, db, tmp_path) -> None:
    impact = (
        "impacts:\n- kind: DIRECT_COST\n  likely: '10'\n  currency: EUR\n"
        f"  estimated_by: {'z' * 121}\n"
    )
    bad = good("PM-2024-002").replace("lessons:\n", impact + "lessons:\n")
    folder = write(tmp_path / "in", {"postmortems/good.md": good(), "postmortems/bad.md": bad})
    result = runner.invoke(args=["import", str(folder)])
    line = problem_line(result.output, "postmortems/bad.md")
    assert line == "postmortems/bad.md:10: impact 1 estimated_by: at most 120 characters, found 121"
    assert db.scalar(select(func.count()).select_from(ImpactEstimate)) == 0


def test_one_bad_file_among_two_good_ones_is_named_and_the_two_import(runner, db, tmp_path) -> None:
    folder = write(
        tmp_path / "in",
        {
            "postmortems/one.md": good("PM-2024-001"),
            "postmortems/two.md": b"---\nformat: 1\ntitle: \xff\n---\n",
            "postmortems/three.md": good("PM-2024-003"),
        },
    )
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    assert "postmortems/two.md:3: not UTF-8 text" in result.output
    assert "imported 2, updated 0, skipped 0, failed 1" in result.output
    assert keys(db) == {"PM-2024-001", "PM-2024-003"}
