"""What counts: the one counting rule (DESIGN.md, "Metrics"), as SQL that every figure, every
count and every list filter composes with.

Every incident counts whatever its review status (a draft is still an incident), unless it is
flagged `exclude_from_metrics` or is an external reference (another organisation's incident,
imported to learn from). Near-misses count apart: split them with `Incident.is_near_miss`.
Figures count every incident whoever asks; a count shown beside a link to a list adds the
viewer's visibility (`auth/access.py`) so that it says how many rows the list shows them.
"""

import enum

from sqlalchemy import ColumnElement, and_, not_

from models import Incident


def counts() -> ColumnElement[bool]:
    """The incidents the rule counts, near-misses included."""
    return and_(Incident.exclude_from_metrics.is_(False), Incident.source_collection.is_(None))


class Counting(enum.Enum):
    """Where the rule puts an incident: the postmortem list's `metrics` filter."""

    COUNTED = "1"  # counted, and not a near-miss
    NEAR_MISS = "near_miss"  # counted apart
    EXCLUDED = "excluded"  # not counted: excluded from metrics, or an external reference

    @property
    def label(self) -> str:
        return {
            "COUNTED": "Counted in reports",
            "NEAR_MISS": "Near-misses (counted apart)",
            "EXCLUDED": "Excluded from reports",
        }[self.name]


def counting_condition(counting: Counting) -> ColumnElement[bool]:
    """The incidents `counting` names, as one condition on the incident's own row."""
    if counting is Counting.EXCLUDED:
        return not_(counts())
    return and_(counts(), Incident.is_near_miss.is_(counting is Counting.NEAR_MISS))
