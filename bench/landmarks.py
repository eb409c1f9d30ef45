"""What the benchmarks open in a generated database, found by plain SQL."""

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import date

from bench.rows import Headcount


@dataclass(frozen=True)
class Landmarks:
    """What the benchmark opens in a generated database."""

    incidents: int
    postmortem_id: int  # a published, unrestricted postmortem with every kind of part
    postmortem_key: str
    stage_id: int  # the growth stage with the most postmortems
    stage_name: str
    stage_incidents: int
    guard_id: int  # the guard check linked from the most postmortems
    guard_name: str
    guard_incidents: int


# --- What the benchmark opens ----------------------------------------------------------


def landmarks(path: str | os.PathLike[str]) -> Landmarks:
    """The pages' subjects in a generated database, found by plain SQL.

    The largest stage is counted the way the app defines it (the company's headcount on the
    day an incident started, UTC), independently of the app's own code.
    """
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (incidents,) = db.execute("SELECT count(*) FROM incident").fetchone()
        stages = db.execute(
            "SELECT id, name, min_headcount, max_headcount FROM growth_stage"
        ).fetchall()
        timeline = Headcount(
            [
                (team_id, date.fromisoformat(on_date), headcount)
                for team_id, on_date, headcount in db.execute(
                    "SELECT team_id, on_date, headcount FROM headcount_snapshot"
                )
            ]
        )
        in_stage: Counter[int] = Counter()
        for (started,) in db.execute("SELECT started_at FROM incident"):
            total = timeline.total(date.fromisoformat(started[:10]))
            for stage_id, _name, low, high in stages:
                if low <= total and (high is None or total <= high):
                    in_stage[stage_id] += 1
        stage_id, stage_incidents = in_stage.most_common(1)[0]
        stage_name = next(name for sid, name, *_ in stages if sid == stage_id)
        guard_id, guard_name, guard_incidents = db.execute(
            """SELECT g.id, g.name, count(DISTINCT a.incident_id) AS n
               FROM guard_check g
               JOIN action_item_guard ag ON ag.guard_check_id = g.id
               JOIN action_item a ON a.id = ag.action_item_id
               GROUP BY g.id ORDER BY n DESC, g.id LIMIT 1"""
        ).fetchone()
        # A published postmortem anyone may read, with tags and a guard, from the middle.
        postmortem_id, postmortem_key = db.execute(
            """SELECT i.id, i.key FROM incident i
               WHERE i.status = 'PUBLISHED' AND NOT i.is_restricted AND i.id >= ?
                 AND EXISTS (SELECT 1 FROM incident_tag t WHERE t.incident_id = i.id)
                 AND EXISTS (SELECT 1 FROM action_item a
                             JOIN action_item_guard ag ON ag.action_item_id = a.id
                             WHERE a.incident_id = i.id)
               ORDER BY i.id LIMIT 1""",
            (incidents // 2,),
        ).fetchone()
    finally:
        db.close()
    return Landmarks(
        incidents=incidents,
        postmortem_id=postmortem_id,
        postmortem_key=postmortem_key,
        stage_id=stage_id,
        stage_name=stage_name,
        stage_incidents=stage_incidents,
        guard_id=guard_id,
        guard_name=guard_name,
        guard_incidents=guard_incidents,
    )
