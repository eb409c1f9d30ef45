"""One page of a select(), with what the template needs to link to the others."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from postmortems.db import session


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

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
    last = max(1, -(-total // per_page))
    number = min(max(1, number), last)
    items = list(session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)
