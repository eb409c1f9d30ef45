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
