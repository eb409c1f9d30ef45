"""The cause taxonomy: the one place where contributing factors are added or changed."""

from sqlalchemy import func, select

from models import CauseCategory, ContributingFactor, IncidentFactor
from postmortems.audit.service import record_event
from postmortems.cache import cached
from postmortems.db import is_taken, session
from postmortems.domain import DomainError, Problems


class TaxonomyError(DomainError):
    """A factor change that would break a rule."""


def incident_counts() -> dict[int, int]:
    """How many postmortems name each factor (factors named by none are left out): one
    GROUP BY over the factor index, kept until the data changes."""

    def count() -> dict[int, int]:
        factor_id = IncidentFactor.factor_id
        rows = session.execute(select(factor_id, func.count()).group_by(factor_id))
        return {factor: uses for factor, uses in rows}

    return cached(("factor_incident_counts",), count)


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
