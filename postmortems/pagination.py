"""One page of a list, with what the template needs to link to the others: the only place that
does page arithmetic (how many pages, which rows, which page an out-of-range number means),
by number (`paginate`) or by the key of a newest-first order (`paginate_keyset`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

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


# --- Pages by key ----------------------------------------------------------------------
#
# A long list newest first is paged by the key of its order (a time, then the id), not by
# OFFSET: a page is "the rows after this key", so the 500th page reads what the first does
# (an index range), and a row filed meanwhile does not shift the next page. The links carry
# the key as a readable cursor: `?after=2024-05-01T10:00:00.000000Z_123`.

# A list's key: the row's time (None for an external reference of unknown start), its id.
Key = tuple[datetime | None, int]

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class CursorError(ValueError):
    """A page link whose cursor cannot be read (edited by hand, cut short)."""


def format_key(key: Key) -> str:
    """The cursor of a key: its UTC time to the microsecond, "_", the id."""
    when, row_id = key
    text = "" if when is None else when.astimezone(UTC).strftime(_TIME_FORMAT)
    return f"{text}_{row_id}"


def parse_key(text: str) -> Key:
    """The key a cursor stands for; CursorError when it stands for none."""
    when_text, sep, id_text = text.rpartition("_")
    if not sep or not id_text.isascii() or not id_text.isdigit() or len(id_text) > 18:
        raise CursorError(text)
    try:
        when = datetime.strptime(when_text, _TIME_FORMAT).replace(tzinfo=UTC) if when_text else None
    except ValueError as exc:
        raise CursorError(text) from exc
    return when, int(id_text)


@dataclass(frozen=True)
class Position:
    """Where a page starts: the first page (nothing set), the last, or after / before a key."""

    after: Key | None = None
    before: Key | None = None
    last: bool = False


def read_position(args: Mapping[str, str], prefix: str = "") -> Position:
    """The position a page link's query string asks for (`after`, `before` or `last`, each
    under `prefix`); CursorError for an unreadable cursor or more than one of them."""
    after, before = args.get(prefix + "after"), args.get(prefix + "before")
    last = args.get(prefix + "last")
    if sum(value is not None for value in (after, before, last)) > 1 or last not in (None, "1"):
        raise CursorError("more than one position")
    return Position(
        after=None if after is None else parse_key(after),
        before=None if before is None else parse_key(before),
        last=last == "1",
    )


def position_args(prefix: str = "") -> tuple[str, ...]:
    """The query-string names a position uses (to drop them from links to other pages)."""
    return (prefix + "after", prefix + "before", prefix + "last")


@dataclass(frozen=True)
class Keyset:
    """A list's newest-first order: `time` descending, then `id` descending. With `nullable`,
    rows of no time come last (SQLite's order going down; PostgreSQL has to be told)."""

    time: InstrumentedAttribute[Any]
    id: InstrumentedAttribute[int]
    nullable: bool = False

    def newest_first(self) -> list[ColumnElement[Any]]:
        time = self.time.desc()
        return [time.nulls_last() if self.nullable else time, self.id.desc()]

    def oldest_first(self) -> list[ColumnElement[Any]]:
        time = self.time.asc()
        return [time.nulls_first() if self.nullable else time, self.id.asc()]

    def after(self, key: Key) -> ColumnElement[bool]:
        """Rows that come after `key`, newest first."""
        when, row_id = key
        if when is None:
            return and_(self.time.is_(None), self.id < row_id)
        # Rows of no time come after these too: `unknown_time` reads them on their own, so
        # that this condition stays a range of the index.
        # The first bound alone is what the index seeks to (SQLite does not seek on an OR).
        return and_(
            self.time <= when, or_(self.time < when, and_(self.time == when, self.id < row_id))
        )

    def unknown_time(self) -> ColumnElement[bool]:
        return self.time.is_(None)

    def before(self, key: Key) -> ColumnElement[bool]:
        """Rows that come before `key`, newest first."""
        when, row_id = key
        if when is None:
            return or_(self.time.is_not(None), self.id > row_id)
        return and_(
            self.time >= when, or_(self.time > when, and_(self.time == when, self.id > row_id))
        )

    def key_of(self, row: Any) -> Key:
        return getattr(row, self.time.key), getattr(row, self.id.key)


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list paged by key, and the query-string values of the links around it."""

    items: list[Any]
    per_page: int
    total: int
    has_previous: bool
    has_next: bool
    first_key: Key | None
    last_key: Key | None
    prefix: str = ""

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    def first_args(self) -> dict[str, str]:
        return {}

    def previous_args(self) -> dict[str, str]:
        assert self.first_key is not None
        return {self.prefix + "before": format_key(self.first_key)}

    def next_args(self) -> dict[str, str]:
        assert self.last_key is not None
        return {self.prefix + "after": format_key(self.last_key)}

    def last_args(self) -> dict[str, str]:
        return {self.prefix + "last": "1"}


def paginate_keyset(
    stmt: Select[Any],
    keyset: Keyset,
    position: Position,
    per_page: int,
    *,
    total: int | None = None,
    prefix: str = "",
) -> KeysetPage:
    """The page of `stmt` at `position`, read along `keyset` (one page and one row more: that
    row says whether there is another page). `total` as for `paginate`.

    A page before a key may be short at the start of the list (rows filed since the page it
    came from are not shown twice); with nothing before the key it is the first page, and a
    page after a key with nothing left is the last.
    """
    if total is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = session.scalar(count) or 0
    base = stmt.order_by(None)

    def page(rows: list[Any], has_previous: bool, has_next: bool) -> KeysetPage:
        return KeysetPage(
            items=rows,
            per_page=per_page,
            total=total,
            has_previous=has_previous,
            has_next=has_next,
            first_key=keyset.key_of(rows[0]) if rows else None,
            last_key=keyset.key_of(rows[-1]) if rows else None,
            prefix=prefix,
        )

    if position.before is not None or position.last:
        going_back = base if position.before is None else base.where(keyset.before(position.before))
        rows = list(
            session.scalars(going_back.order_by(*keyset.oldest_first()).limit(per_page + 1))
        )
        if rows or position.before is None:
            return page(rows[:per_page][::-1], len(rows) > per_page, position.before is not None)
        position = Position()  # nothing newer is left: the first page
    after = base if position.after is None else base.where(keyset.after(position.after))
    rows = list(session.scalars(after.order_by(*keyset.newest_first()).limit(per_page + 1)))
    after_a_time = position.after is not None and position.after[0] is not None
    if keyset.nullable and after_a_time and len(rows) <= per_page:  # rows of no time, last
        unknown = base.where(keyset.unknown_time()).order_by(keyset.id.desc())
        rows += session.scalars(unknown.limit(per_page + 1 - len(rows)))
    if position.after is not None and not rows:
        return paginate_keyset(
            stmt, keyset, Position(last=True), per_page, total=total, prefix=prefix
        )
    return page(rows[:per_page], position.after is not None, len(rows) > per_page)


# An old link's page number past this many rows is past the end of any list (and past what the
# databases' integers hold: a hostile `?page=10**30` must not reach the OFFSET).
MAX_ROWS_BEFORE_A_PAGE = 2**31


def position_of_page(stmt: Select[Any], keyset: Keyset, number: int, per_page: int) -> Position:
    """Where the old `?page=number` link's page starts: after the last row of the page before
    it, found once by OFFSET over the key's columns only (past the end: the last page)."""
    if number <= 1:
        return Position()
    if page_offset(number, per_page) > MAX_ROWS_BEFORE_A_PAGE:  # more rows than any list holds
        return Position(last=True)
    keys = stmt.order_by(None).with_only_columns(keyset.time, keyset.id)
    row = session.execute(
        keys.order_by(*keyset.newest_first()).limit(1).offset(page_offset(number, per_page) - 1)
    ).first()
    return Position(last=True) if row is None else Position(after=(row[0], row[1]))


def position_query(position: Position, prefix: str = "") -> dict[str, str]:
    """The query-string values of a link to `position` (see `read_position`)."""
    if position.after is not None:
        return {prefix + "after": format_key(position.after)}
    if position.before is not None:
        return {prefix + "before": format_key(position.before)}
    return {prefix + "last": "1"} if position.last else {}
