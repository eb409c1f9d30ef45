"""Markdown over the limits (docs/limits.md) is refused with a clear message naming the field,
on every path that accepts it, before anything renders it; nothing reaches a 500."""

import time

from sqlalchemy import func, select

from models import Incident, Role
from tests.api.helpers import Api, user_with_token
from tests.conftest import CSRF_PATTERN

DEEP_LIST = "- " * 1000 + "x"
OPEN_BRACKETS = "[" * 20_000
FILING = {"title": "Queue stalled", "started_at": "2024-03-01T10:00", "severity": "SEV3"}
API_FILING = {"title": "Queue stalled", "started_at": "2024-03-01T10:00:00Z", "severity": "SEV3"}


def incidents(db) -> int:
    return db.scalar(select(func.count()).select_from(Incident))


def preview(browser, text: str):
    token = CSRF_PATTERN.search(browser.get("/incidents/new").get_data(as_text=True)).group(1)
    return browser.client.post(
        "/incidents/preview",
        data={"csrf_token": token, "field": "what_happened_md", "what_happened_md": text},
    )


def test_the_preview_of_20000_open_brackets_answers_at_once_with_a_clear_message(browser) -> None:
    started = time.perf_counter()
    response = preview(browser, OPEN_BRACKETS)
    assert time.perf_counter() - started < 1
    assert response.status_code == 200
    assert "At most 100 unclosed [ brackets (20,000 given)" in response.get_data(as_text=True)


def test_the_preview_of_a_list_nested_1000_deep_says_how_deep_lists_may_nest(browser) -> None:
    response = preview(browser, DEEP_LIST)
    assert response.status_code == 200
    assert "Lists and quotes nest at most 16 deep" in response.get_data(as_text=True)


def test_the_form_refuses_a_deep_list_beside_its_field_and_saves_nothing(browser, db) -> None:
    response = browser.submit("/incidents/new", {**FILING, "analysis_md": DEEP_LIST})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = html.split('name="analysis_md"', 1)[1]
    assert "Lists and quotes nest at most 16 deep" in field.split("</textarea>", 2)[1][:600]
    assert incidents(db) == 0


def test_the_form_refuses_a_deep_list_in_a_timeline_row_beside_it(browser, db) -> None:
    rows = {"timeline-0-at": "2024-03-01T10:05", "timeline-0-text_md": DEEP_LIST}
    html = browser.submit("/incidents/new", {**FILING, **rows}).get_data(as_text=True)
    assert "Lists and quotes nest at most 16 deep" in html
    assert incidents(db) == 0


def test_the_api_refuses_a_deep_list_naming_the_field(app, db) -> None:
    _, token = user_with_token(Role.AUTHOR)
    response = Api(app, token).post("/api/v1/postmortems", {**API_FILING, "analysis_md": DEEP_LIST})
    assert response.status_code == 422
    assert "Lists and quotes nest" in response.get_json()["fields"]["analysis_md"][0]
    assert incidents(db) == 0


def test_the_api_refuses_a_deep_list_in_a_timeline_event_naming_it(app, db) -> None:
    _, token = user_with_token(Role.AUTHOR)
    timeline = [{"at": "2024-03-01T10:05:00Z", "text_md": DEEP_LIST}]
    response = Api(app, token).post("/api/v1/postmortems", {**API_FILING, "timeline": timeline})
    assert response.status_code == 422, response.get_json()
    assert "timeline.0.text_md" in response.get_json()["fields"], response.get_json()
    assert incidents(db) == 0


MOJ_ENTRY = """---
title: Incident on 2020-04-15 Nginx/TLS
---

# Incident on 2020-04-15 Nginx/TLS

- **Key events**
  - Fault occurs 2020-04-15 07:15

- **Status**: Resolved at 2020-04-30 15:09 UTC

{body}
"""


def test_import_reports_a_file_with_a_deep_list_by_name_and_imports_the_others(
    runner, db, tmp_path
) -> None:
    (tmp_path / "2020-04-15.html.md.erb").write_text(MOJ_ENTRY.format(body=""), encoding="utf-8")
    (tmp_path / "2020-04-16.html.md.erb").write_text(
        MOJ_ENTRY.format(body=DEEP_LIST).replace("04-15", "04-16"), encoding="utf-8"
    )
    result = runner.invoke(args=["import", str(tmp_path), "--format", "moj"])
    assert "2020-04-16.html.md.erb" in result.output
    assert "Lists and quotes nest at most 16 deep" in result.output
    assert incidents(db) == 1
