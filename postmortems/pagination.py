"""One page of a select(), with what the template needs to link to the others."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from postmortems.cache import cached
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


def paginate(
    stmt: Select[Any],
    number: int,
    per_page: int,
    *,
    count_key: Hashable | None = None,
    plan: Callable[[Select[Any], int], Select[Any]] | None = None,
) -> Page:
    """Run `stmt` for page `number` (1-based; out-of-range numbers are clamped).

    With `count_key`, the total is kept until the data changes (cache.py): counting a large
    filtered set costs far more than reading one page of it. `plan(stmt, total)` may adjust
    the page's query once the total is known.
    """
    count = select(func.count()).select_from(stmt.order_by(None).subquery())

    def total_rows() -> int:
        return session.scalar(count) or 0

    total = total_rows() if count_key is None else cached(count_key, total_rows)
    last = max(1, -(-total // per_page))
    number = min(max(1, number), last)
    if plan is not None:
        stmt = plan(stmt, total)
    items = list(session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)
