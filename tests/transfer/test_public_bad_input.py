"""A log entry of the MoJ format with an impossible date is reported by name and reason;
it never stops the run."""

MOJ_ENTRY = """---
title: Incident on 2020-04-15 Nginx/TLS
---

# Incident on 2020-04-15 Nginx/TLS

- **Key events**
  - Fault occurs 2020-04-15 07:15

- **Status**: Resolved at 2020-04-31 15:09 UTC
"""


def test_an_impossible_status_date_is_reported_not_raised(runner, db, tmp_path) -> None:
    (tmp_path / "2020-04-15.html.md.erb").write_text(MOJ_ENTRY, encoding="utf-8")
    result = runner.invoke(args=["import", str(tmp_path), "--format", "moj"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "2020-04-15.html.md.erb" in result.output
    assert "no such date or time '2020-04-31 15:09 UTC'" in result.output


ICCO_ENTRY = """---
uuid: 00000000-0000-0000-0000-000000000001
url: https://example.com/outage
title: An outage
company: Example
start_time: 2020-01-02T03:04:05Z
---

It broke.
"""


def test_a_public_file_with_a_nul_byte_is_named_with_its_line_and_the_others_import(
    runner, db, tmp_path
) -> None:
    (tmp_path / "a.md").write_text(ICCO_ENTRY, encoding="utf-8")
    bad = ICCO_ENTRY.replace("0001", "0002").replace("It broke.", "It\x00broke.")
    (tmp_path / "b.md").write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["import", str(tmp_path), "--format", "icco"])
    assert result.exit_code == 1
    assert "b.md:9: a NUL character (U+0000)" in result.output
    assert "imported 1, updated 0, skipped 0, failed 1" in result.output


def test_a_public_file_that_is_not_utf8_is_named_with_its_line_and_byte_offset(
    runner, db, tmp_path
) -> None:
    bad = ICCO_ENTRY.encode().replace(b"It broke.", b"It broke \xe9.")
    (tmp_path / "b.md").write_bytes(bad)
    result = runner.invoke(args=["import", str(tmp_path), "--format", "icco"])
    assert result.exit_code == 1
    offset = bad.index(b"\xe9")
    assert f"b.md:9: not UTF-8 text: byte 0xe9 at byte offset {offset}" in result.output
