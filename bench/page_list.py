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
PER_PAGE = 20  # the lists' page size


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
    key that following "Older" 499 times reaches (20 a page; keys of the admin's view).

    A smaller database has fewer pages: then its last page stands in, named by its number.
    """
    marks = landmarks(database)
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        in_list = deepest(
            db,
            """SELECT started_at, id FROM incident WHERE source_collection IS NULL
               ORDER BY started_at DESC, id DESC""",
            (),
        )
        in_guard = deepest(
            db,
            """SELECT started_at, id FROM incident WHERE id IN (
                 SELECT a.incident_id FROM action_item a
                 JOIN action_item_guard ag ON ag.action_item_id = a.id
                 WHERE ag.guard_check_id = ?)
               ORDER BY started_at DESC, id DESC""",
            (marks.guard_id,),
        )
    finally:
        db.close()
    return [
        Page(f"list, page {in_list[0]}", f"/incidents/{in_list[1]}", PAGE_TARGET),
        Page(
            f"most-linked guard, p{in_guard[0]}",
            f"/guards/{marks.guard_id}{in_guard[1]}",
            PAGE_TARGET,
        ),
    ]


def deepest(db: sqlite3.Connection, query: str, params: tuple[int, ...]) -> tuple[int, str]:
    """The page number (500, or the last page when there are fewer) of this ordered list, and
    the query string that reaches it: the key of the row just before it."""
    (rows,) = db.execute(f"SELECT count(*) FROM ({query})", params).fetchone()
    page = min(500, max(1, -(-rows // PER_PAGE)))
    if page == 1:
        return page, ""
    started_at, row_id = db.execute(
        f"{query} LIMIT 1 OFFSET ?", (*params, (page - 1) * PER_PAGE - 1)
    ).fetchone()
    # The key as postmortems/pagination.py writes it.
    key = datetime.fromisoformat(started_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + f"_{row_id}"
    return page, f"?after={key}"
