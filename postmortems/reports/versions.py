"""Figure versions per month: every commit that writes a row the report figures read moves the
version of the UTC months of the incidents it touched, so that the figures kept for other
months stand (piece_store.py). A change that may move any month's figures moves "*".

What moves which version:
- an incident written: the months of its start before and after the change; removed: "*"
  (the database clears other incidents' "recurrence of" it);
- a factor, impact estimate or action item of an incident (its guard checks too): the month
  of that incident's start;
- a contributing factor's category changed or the factor removed, a guard check's action items
  changed or the check removed, a team removed: "*";
- a bulk statement on any of those tables: "*".
Pieces count factors by id; their names are read when a report is assembled. So a factor
renamed, a team, a headcount snapshot or a growth stage written moves only "inputs", which no
piece depends on but an assembled report does (piece_store.figures_version sums every scope).
Other rows (users, sessions, history, search index, guard runs, reading paths) move nothing.
"""

from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session

ALL_MONTHS = "*"
REPORT_INPUTS = "inputs"  # factor names, teams, headcount, stages: no month's piece
PENDING = "figure_months"
PENDING_INCIDENTS = "figure_incidents"
# Tables whose bulk statements (not through the session's objects) may move any figure.
FIGURE_TABLES = {
    "incident",
    "incident_factor",
    "impact_estimate",
    "action_item",
    "action_item_guard",
    "contributing_factor",
    "guard_check",
    "team",
}
# Tables whose bulk statements move only what reports are assembled with.
INPUT_TABLES = {"headcount_snapshot", "growth_stage"}


def month_scope(instant: datetime) -> str:
    """The UTC month of an instant, as a figure version's scope: "2024-03"."""
    at = instant.astimezone(UTC) if instant.tzinfo else instant
    return f"{at.year:04d}-{at.month:02d}"


def note_flush(db_session: Session) -> None:
    """After each flush: which months' figures may this flush have moved?"""
    from models import ActionItem, ImpactEstimate, Incident, IncidentFactor

    months: set[str] = db_session.info.setdefault(PENDING, set())
    incident_ids: set[int] = db_session.info.setdefault(PENDING_INCIDENTS, set())
    deleted = set(db_session.deleted)
    for obj in chain(db_session.new, db_session.dirty, deleted):
        if isinstance(obj, Incident):
            if obj in deleted:
                months.add(ALL_MONTHS)
            elif obj.__dict__.get("id") is not None:
                incident_ids.add(obj.__dict__["id"])  # its start now, read at commit
            # Its start before the change (loaded when set: active_history on the column).
            for started_at in inspect(obj).attrs.started_at.history.deleted:
                if started_at is not None:
                    months.add(month_scope(started_at))
        elif isinstance(obj, IncidentFactor | ImpactEstimate | ActionItem):
            incident_id = obj.__dict__.get("incident_id")
            if incident_id is not None:
                incident_ids.add(incident_id)
            else:  # not loaded (expired by an earlier commit): whose month is unknown
                months.add(ALL_MONTHS)
        elif _moves_any_month(obj, db_session.new, deleted):
            months.add(ALL_MONTHS)
        if _moves_inputs(obj, db_session.new):
            months.add(REPORT_INPUTS)


def _moves_any_month(obj: object, new: Any, deleted: set[object]) -> bool:
    """A contributing factor's category changed or the factor removed (its category is in
    every month's figures; its name is not), a guard check's action items changed or the check
    removed, a team removed."""
    from models import ContributingFactor, GuardCheck, Team

    if isinstance(obj, ContributingFactor):
        return obj in deleted or inspect(obj).attrs.category.history.has_changes()
    if isinstance(obj, GuardCheck):
        return obj in deleted or inspect(obj).attrs.action_items.history.has_changes()
    return isinstance(obj, Team) and obj in deleted


def _moves_inputs(obj: object, new: Any) -> bool:
    """A factor changed (its name), a team, a headcount snapshot or a growth stage written."""
    from models import ContributingFactor, GrowthStage, HeadcountSnapshot, Team

    if isinstance(obj, ContributingFactor):
        return obj not in new  # a new factor is in no report yet
    return isinstance(obj, Team | HeadcountSnapshot | GrowthStage)


def note_statement(state: ORMExecuteState) -> None:
    """A bulk INSERT, UPDATE or DELETE through the session on a table the figures read."""
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in FIGURE_TABLES:
        state.session.info.setdefault(PENDING, set()).add(ALL_MONTHS)
    if table in FIGURE_TABLES | INPUT_TABLES:
        state.session.info.setdefault(PENDING, set()).add(REPORT_INPUTS)


def write_pending(db_session: Session) -> None:
    """Before commit, after the last flush: move the versions of the months written."""
    from models import FigureVersion, Incident

    months: set[str] = db_session.info.pop(PENDING, set())
    incident_ids: set[int] = db_session.info.pop(PENDING_INCIDENTS, set())
    if incident_ids:
        starts = db_session.scalars(
            select(Incident.started_at).where(Incident.id.in_(sorted(incident_ids)))
        )
        months.update(month_scope(s) for s in starts if s is not None)
    if not months:
        return
    dialect = db_session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(FigureVersion).values([{"scope": m, "number": 1} for m in sorted(months)])
    # Sorted, so that two transactions lock the rows in the same order and cannot deadlock.
    db_session.execute(
        stmt.on_conflict_do_update(
            index_elements=[FigureVersion.scope],
            set_={"number": FigureVersion.number + 1},
        )
    )


def forget_pending(db_session: Session) -> None:
    db_session.info.pop(PENDING, None)
    db_session.info.pop(PENDING_INCIDENTS, None)
