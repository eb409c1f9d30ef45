"""Calendar quarters, and person-quarters over a headcount step function."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from postmortems.domain import DomainError

QUARTER_PATTERN = re.compile(r"(\d{4})Q([1-4])")
FIRST_REPORT_YEAR, LAST_REPORT_YEAR = 1970, 2100


class ReportError(DomainError):
    """A report asked for with values it cannot take (a malformed quarter, a reversed range)."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, e.g. 2020Q4: its days in the team's zone."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER_PATTERN.fullmatch(text)
        if match is None:
            raise ReportError(fields={"quarter": ["Name a quarter as 2020Q4."]})
        quarter = cls(int(match.group(1)), int(match.group(2)))
        if not FIRST_REPORT_YEAR <= quarter.year <= LAST_REPORT_YEAR:
            message = f"Choose a year from {FIRST_REPORT_YEAR} to {LAST_REPORT_YEAR}."
            raise ReportError(fields={"quarter": [message]})
        return quarter

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> date:
        """The first day of the next quarter (the quarter's exclusive end)."""
        return self.next.first_day

    @property
    def last_day(self) -> date:
        return self.next_first_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.next_first_day - self.first_day).days

    @property
    def next(self) -> "Quarter":
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    @property
    def previous(self) -> "Quarter":
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    @property
    def year_before(self) -> "Quarter":
        return Quarter(self.year - 1, self.number)

    def __str__(self) -> str:
        return self.label


def quarters_between(first_day: date, last_day: date) -> list[Quarter]:
    """Every quarter that has a day from `first_day` to `last_day` (inclusive), in order."""
    quarters = []
    quarter = Quarter.of(first_day)
    while quarter.first_day <= last_day:
        quarters.append(quarter)
        quarter = quarter.next
    return quarters


@dataclass(frozen=True)
class Step:
    """Headcount `total` from `start` up to (not including) `end`; `end` None: still holds."""

    start: date
    end: date | None
    total: int


def person_quarters(steps: list[Step], start: date, end: date) -> Fraction:
    """Σ over the days from `start` up to (not including) `end` of the headcount on that day ÷
    the number of days in that day's calendar quarter (a full quarter at 10 people = 10)."""
    total = Fraction(0)
    for step in steps:
        lo = max(step.start, start)
        hi = end if step.end is None else min(step.end, end)
        if lo >= hi or step.total == 0:
            continue
        quarter = Quarter.of(lo)
        while quarter.first_day < hi:
            days = (min(hi, quarter.next_first_day) - max(lo, quarter.first_day)).days
            if days > 0:
                total += Fraction(step.total * days, quarter.days)
            quarter = quarter.next
    return total
