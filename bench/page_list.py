"""The pages `make bench` measures and their targets (issue 7), with the 500th pages by key
that issue 18 added."""

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.generate import Landmarks, landmarks

# Issue 7: the postmortem page at least a quarter of /healthz, every other page a tenth.
POSTMORTEM_TARGET = 0.25
PAGE_TARGET = 0.10


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    target: float


def pages(marks: Landmarks) -> list[Page]:
    """The pages of issue 7, with this database's postmortem, stage and guard."""
    return [
        Page("postmortem page", f"/incidents/{marks.postmortem_id}", POSTMORTEM_TARGET),
        Page("list, page 1", "/incidents/", PAGE_TARGET),
        Page("list by largest stage", f"/incidents/?stage={marks.stage_id}", PAGE_TARGET),
        Page("list by category", "/incidents/?category=TECH_DEBT_CULTURE", PAGE_TARGET),
        Page("guard list", "/guards/", PAGE_TARGET),
        Page("most-linked guard", f"/guards/{marks.guard_id}", PAGE_TARGET),
        Page("causes", "/taxonomy/", PAGE_TARGET),
        Page("teams", "/teams/", PAGE_TARGET),
    ]


def deep_pages(database: Path) -> list[Page]:
    """The 500th page of the list and of the most-linked guard (issue 18), as the links by
    key that following "Older" 499 times reaches (20 a page; keys of the admin's view)."""
    marks = landmarks(database)
    before_page_500 = 499 * 20 - 1
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        in_list = db.execute(
            """SELECT started_at, id FROM incident WHERE source_collection IS NULL
               ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?""",
            (before_page_500,),
        ).fetchone()
        in_guard = db.execute(
            """SELECT started_at, id FROM incident WHERE id IN (
                 SELECT a.incident_id FROM action_item a
                 JOIN action_item_guard ag ON ag.action_item_id = a.id
                 WHERE ag.guard_check_id = ?)
               ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?""",
            (marks.guard_id, before_page_500),
        ).fetchone()
    finally:
        db.close()

    def cursor(row: tuple[str, int]) -> str:  # as postmortems/pagination.py writes it
        return datetime.fromisoformat(row[0]).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + f"_{row[1]}"

    return [
        Page("list, page 500", f"/incidents/?after={cursor(in_list)}", PAGE_TARGET),
        Page(
            "most-linked guard, p500",
            f"/guards/{marks.guard_id}?after={cursor(in_guard)}",
            PAGE_TARGET,
        ),
    ]
