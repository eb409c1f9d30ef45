"""Frozen quarterly reviews: the figures as they stood at a data cut-off, kept to be shown again
exactly, and compared with what today's data gives for the same quarter and filters.

What is stored is the review's figures payload (`render.quarterly_figures_json`, the same for
every reader: counts, durations, impact sums, factor and guard names, never a postmortem), as
JSON text, with the moment the data was read, the data version and who froze it.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select

from models import DataVersion, FrozenReport, IncidentStatus, Severity, User
from postmortems.audit.service import record_event
from postmortems.db import session
from postmortems.reports import render
from postmortems.reports.figures import ReportFilters
from postmortems.reports.periods import Quarter, ReportError
from postmortems.reports.service import quarterly_report

QUARTERLY = "quarterly"
# In a list of objects, these fields name an item (its path), the others are its figures.
ITEM_NAMES = ("name", "kind", "unit", "level")
LEFT_OUT = ("id",)


@dataclass(frozen=True)
class FrozenVersion:
    """A frozen review as plain values."""

    id: int
    period: str
    filters: str  # the report's filters as a query string ("" for none)
    figures: dict[str, Any]
    data_cutoff_at: datetime
    data_version: int
    frozen_by: str


@dataclass(frozen=True)
class Change:
    """One figure that differs: its readable path, and both values as text."""

    path: str
    before: str
    after: str


def filters_query(filters: ReportFilters) -> str:
    """The narrowing filters as the page's query string, in a fixed order ("" for none)."""
    args: dict[str, str] = {}
    if filters.team_id is not None:
        args["team"] = str(filters.team_id)
    if filters.severity is not None:
        args["severity"] = filters.severity.name
    if filters.status is not None:
        args["status"] = filters.status.name
    if not filters.near_misses:
        args["near_misses"] = "0"
    return urlencode(sorted(args.items()))


def filters_args(query: str) -> dict[str, Any]:
    """A stored query string as URL arguments."""
    return dict(parse_qsl(query))


def freeze_quarterly(
    quarter: Quarter,
    *,
    user: User | None,
    now: datetime,
    team_id: int | None = None,
    severity: Severity | None = None,
    status: IncidentStatus | None = None,
    near_misses: bool = True,
) -> FrozenReport:
    """Store the quarter's figures as today's data gives them, cut off now."""
    version = session.scalar(select(DataVersion.number).where(DataVersion.id == 1)) or 0
    report = quarterly_report(
        quarter,
        None,
        now=now,
        team_id=team_id,
        severity=severity,
        status=status,
        near_misses=near_misses,
    )
    frozen = FrozenReport(
        kind=QUARTERLY,
        period=quarter.label,
        filters=filters_query(report.filters),
        figures_json=json.dumps(render.quarterly_figures_json(report), sort_keys=True),
        data_cutoff_at=now,
        data_version=version,
        frozen_by_id=user.id if user else None,
        frozen_by_name=user.display_name if user else "",
    )
    session.add(frozen)
    session.flush()
    shown = f" ({frozen.filters})" if frozen.filters else ""
    record_event(
        "froze report", "frozen_report", frozen.id, f"quarterly review {quarter.label}{shown}"
    )
    return frozen


def _version(row: FrozenReport) -> FrozenVersion:
    return FrozenVersion(
        id=row.id,
        period=row.period,
        filters=row.filters,
        figures=json.loads(row.figures_json),
        data_cutoff_at=row.data_cutoff_at,
        data_version=row.data_version,
        frozen_by=row.frozen_by_name or "the command line",
    )


def list_frozen(quarter: Quarter) -> tuple[FrozenVersion, ...]:
    """The quarter's frozen reviews, newest first."""
    rows = session.scalars(
        select(FrozenReport)
        .where(FrozenReport.kind == QUARTERLY, FrozenReport.period == quarter.label)
        .order_by(FrozenReport.data_cutoff_at.desc(), FrozenReport.id.desc())
    )
    return tuple(_version(row) for row in rows)


def get_frozen(quarter: Quarter, frozen_id: int) -> FrozenVersion:
    """One frozen review of the quarter; ReportError when there is none by that id."""
    row = session.get(FrozenReport, frozen_id)
    if row is None or row.kind != QUARTERLY or row.period != quarter.label:
        raise ReportError(fields={"frozen": ["No frozen review of this quarter has this number."]})
    return _version(row)


# Comparing.


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Every figure of a payload under a readable path: `this_quarter.incidents`,
    `this_quarter.top_factors[Missing tests].incidents`, `…impacts[LOST_REVENUE RUB].likely`.
    A list of plain values is one figure (`guard_checks_added`: names joined)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            flat = {}
            for i, item in enumerate(value):
                name = " ".join(str(item[k]) for k in ITEM_NAMES if item.get(k) not in (None, ""))
                rest = {k: v for k, v in item.items() if k not in ITEM_NAMES + LEFT_OUT}
                flat.update(flatten(rest, f"{path}[{name or i}]"))
            return flat
        return {path: ", ".join(str(item) for item in value)} if value else {}
    return {path: value}


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


MISSING = "—"


def changed_figures(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The figures that differ between two payloads, in the order of `before` (then those only
    `after` has); a figure on one side only shows "—" on the other."""
    old, new = flatten(before), flatten(after)
    paths = list(old) + [p for p in new if p not in old]
    return [
        Change(
            path,
            _text(old[path]) if path in old else MISSING,
            _text(new[path]) if path in new else MISSING,
        )
        for path in paths
        if path not in old or path not in new or old[path] != new[path]
    ]
