"""The cause taxonomy: the one place where contributing factors are added or changed."""

from dataclasses import dataclass

from sqlalchemy import case, func, select

from models import CauseCategory, ContributingFactor, Incident, IncidentFactor, User
from postmortems.audit.service import record_event
from postmortems.auth.access import visible_incidents
from postmortems.cache import cached
from postmortems.db import is_taken, session
from postmortems.domain import DomainError, Problems
from postmortems.incidents import counting


class TaxonomyError(DomainError):
    """A factor change that would break a rule."""


@dataclass(frozen=True)
class FactorCount:
    """How many incidents name a factor, counted by the rule (`incidents/counting.py`), and
    how many of each the viewer may see: the linked list shows those, the rest are hidden."""

    incidents: int = 0
    near_misses: int = 0
    visible_incidents: int = 0
    visible_near_misses: int = 0

    @property
    def hidden_incidents(self) -> int:
        return self.incidents - self.visible_incidents

    @property
    def hidden_near_misses(self) -> int:
        return self.near_misses - self.visible_near_misses


def incident_counts(viewer: User) -> dict[int, FactorCount]:
    """Per factor (those named by no counted incident left out): one GROUP BY over the factor
    index joined to the incidents, kept per viewer until the data changes."""

    def count() -> dict[int, FactorCount]:
        seen = func.coalesce(func.sum(case((visible_incidents(viewer), 1), else_=0)), 0)
        rows = session.execute(
            select(IncidentFactor.factor_id, Incident.is_near_miss, func.count(), seen)
            .join(Incident, Incident.id == IncidentFactor.incident_id)
            .where(counting.counts())
            .group_by(IncidentFactor.factor_id, Incident.is_near_miss)
        )
        counts: dict[int, dict[str, int]] = {}
        for factor_id, is_near_miss, n, visible in rows:
            entry = counts.setdefault(factor_id, {})
            if is_near_miss:
                entry.update(near_misses=n, visible_near_misses=int(visible))
            else:
                entry.update(incidents=n, visible_incidents=int(visible))
        return {factor_id: FactorCount(**entry) for factor_id, entry in counts.items()}

    return cached(("factor_incident_counts",), count, viewer=viewer)


def create_factor(
    *, category: CauseCategory, name: str, description: str = ""
) -> ContributingFactor:
    factor = ContributingFactor(category=category, description=description)
    factor.name = _factor_name(category, name, None)
    session.add(factor)
    session.flush()
    record_event("added factor", "contributing_factor", factor.id, str(factor))
    return factor


def update_factor(
    factor: ContributingFactor, *, category: CauseCategory, name: str, description: str = ""
) -> None:
    factor.name = _factor_name(category, name, factor)
    factor.category, factor.description = category, description
    session.flush()
    record_event("edited factor", "contributing_factor", factor.id, str(factor))


def _factor_name(category: CauseCategory, name: str, factor: ContributingFactor | None) -> str:
    name = name.strip()
    problems = Problems()
    if not name:
        problems.add("name", "Give the factor a name.")
    problems.check_length("name", name, 120)
    if name and is_taken(ContributingFactor, factor, category=category, name=name):
        problems.add("name", "This category already has a factor with this name.")
    problems.raise_if_any(TaxonomyError)
    return name
