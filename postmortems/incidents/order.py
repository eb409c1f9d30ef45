"""How incident lists are read in order, shared by every feature that lists incidents (guards,
home, knowledge, the API): it imports no feature, so any of them may use it."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute

from models import Incident
from postmortems.pagination import Keyset

Rows = TypeVar("Rows")


def newest_first(stmt: Select[Rows], many: bool) -> Select[Rows]:
    """With `many`, `stmt` reads incidents along the newest-first index (SQLite has no
    statistics to choose that plan itself)."""
    if not many:
        return stmt
    return stmt.with_hint(Incident, "INDEXED BY ix_incident_started_at_id", "sqlite")


def incidents_among(
    ids: Select[Any], incident_id: ColumnElement[int] | InstrumentedAttribute[int], correlated: bool
) -> ColumnElement[bool]:
    """Incidents among `ids`: `incident.id IN (ids)`, or EXISTS of `ids` for this incident."""
    if correlated:
        return ids.where(incident_id == Incident.id).exists()
    return Incident.id.in_(ids)


# From this many matches on, a page is read along the newest-first index (`many`): at most
# ~20 × total ÷ matches index entries, against collecting and sorting every match.
ORDER_INDEX_FROM_ROWS = 1000


def incident_keyset(*, external: bool | None = False) -> Keyset:
    """The key incident lists are paged by, newest first: our own incidents all have a start;
    where external references may be listed, those of unknown start come last."""
    return Keyset(Incident.started_at, Incident.id, nullable=external is not False)
