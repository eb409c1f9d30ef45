"""The quarterly review's look back: the figures of the last HISTORY_QUARTERS quarters up to the
reviewed one, for its charts and the tables beside them.

Every figure comes from the same owners as the rest of the reports: the counts and action
items from the kept month pieces (piece_store.group_figures), the rate from service.rate over
the quarter's days up to today (no rate counts a day after today).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from models import CauseCategory
from postmortems.reports.figures import ActionFigures, ReportFilters
from postmortems.reports.periods import Quarter
from postmortems.reports.piece_store import group_figures
from postmortems.reports.service import Rate, headcount_steps, rate

HISTORY_QUARTERS = 8
# The action items of a set of incidents, partitioned as of one day: the parts add up to all.
ACTION_PARTS = (
    ("done", "Done"),
    ("wont_do", "Won't do"),
    ("overdue", "Overdue"),
    ("open", "Open, not yet due"),
)


@dataclass(frozen=True)
class HistoryRow:
    quarter: Quarter
    incidents: int  # counted, near-misses apart
    by_category: dict[CauseCategory, int]
    rate: Rate  # over the quarter's days up to today
    actions: ActionFigures  # the items of the quarter's incidents, as of the history's day

    @property
    def action_parts(self) -> dict[str, int]:
        """The items' partition, keyed as ACTION_PARTS: it adds up to `actions.total`."""
        a = self.actions
        return {
            "done": a.done,
            "wont_do": a.wont_do,
            "overdue": a.overdue,
            "open": a.total - a.done - a.wont_do - a.overdue,
        }


@dataclass(frozen=True)
class QuarterHistory:
    quarter: Quarter  # the reviewed quarter, the last row
    as_of: date  # the day the action items are partitioned on (today)
    rows: tuple[HistoryRow, ...]  # oldest first

    @property
    def action_parts(self) -> tuple[tuple[str, str], ...]:
        """The parts of the action items' partition: (key, label), in order."""
        return ACTION_PARTS


def quarter_history(quarter: Quarter, *, today: date, **narrowing: Any) -> QuarterHistory:
    """The HISTORY_QUARTERS quarters up to `quarter`, with the review's narrowing filters."""
    quarters = [quarter]
    while len(quarters) < HISTORY_QUARTERS:
        quarters.insert(0, quarters[0].previous)
    filters = ReportFilters(quarters[0].first_day, quarter.last_day, **narrowing)
    figures = group_figures(
        filters, [(q.label, q.first_day, q.next_first_day) for q in quarters], today
    )
    steps = headcount_steps(filters.team_id)
    tomorrow = today + timedelta(days=1)
    rows = []
    for q in quarters:
        group = figures[q.label]
        end = min(q.next_first_day, tomorrow)
        spans = [(q.first_day, end)] if q.first_day < end else []
        rows.append(
            HistoryRow(
                quarter=q,
                incidents=group.incidents,
                by_category=group.by_category,
                rate=rate(group.incidents, steps, spans),
                actions=group.actions,
            )
        )
    return QuarterHistory(quarter=quarter, as_of=today, rows=tuple(rows))
