"""One page of a list, with what the template needs to link to the others: the only place that
does page arithmetic (how many pages, which rows, which page an out-of-range number means)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from postmortems.db import session


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill; an empty list still has one (empty) page."""
    return max(1, -(-total // per_page))


def clamp_page(number: int, total: int, per_page: int) -> int:
    """The page to show for a requested `number`: below 1 is the first, past the end the last."""
    return min(max(1, number), page_count(total, per_page))


def page_offset(number: int, per_page: int) -> int:
    """How many rows come before page `number` (1-based)."""
    return (max(1, number) - 1) * per_page


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(stmt: Select[Any], number: int, per_page: int, *, total: int | None = None) -> Page:
    """Run `stmt` for page `number` (1-based; out-of-range numbers are clamped).

    `total` is the number of rows `stmt` gives, when the caller knows it (counted once and
    kept: counting a large filtered set costs far more than reading one page of it).
    """
    if total is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = session.scalar(count) or 0
    number = clamp_page(number, total, per_page)
    items = list(session.scalars(stmt.limit(per_page).offset(page_offset(number, per_page))))
    return Page(items=items, number=number, per_page=per_page, total=total)


def paginate_list(rows: Sequence[Any], number: int, per_page: int) -> Page:
    """The same for rows already in memory."""
    number = clamp_page(number, len(rows), per_page)
    start = page_offset(number, per_page)
    return Page(
        items=list(rows[start : start + per_page]),
        number=number,
        per_page=per_page,
        total=len(rows),
    )
