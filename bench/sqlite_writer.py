"""Bulk inserts into a generated SQLite database, fitted to the tables' columns now, and what
follows them: stored HTML, the search index (bench/generate.py)."""

import functools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Table,
    create_engine,
)
from sqlalchemy.types import String

from models import (
    Base,
)


class Writer:
    """Bulk inserts into the models' tables, fitted to whatever columns the tables have now."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: Counter[str] = Counter()
        self.unrendered: set[str] = set()
        self._warned: set[str] = set()

    def insert(self, table_name: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = Base.metadata.tables[table_name]
        rows = self._fit(table, rows)
        self.conn.execute(table.insert(), rows)
        self.rows[table_name] += len(rows)

    def _fit(self, table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        given = set(rows[0])
        gone = given - set(table.c.keys())
        if gone:
            self._warn(f"{table.name}: no columns {sorted(gone)} any more; left out")
            rows = [{k: v for k, v in row.items() if k not in gone} for row in rows]
        fill: dict[str, Callable[[dict[str, Any]], Any]] = {}
        for column in table.c:
            if column.name in given:
                continue
            source = _markdown_source(column.name, given)
            if source is not None:
                fill[column.name] = functools.partial(_render_column, source)
            elif column.name.endswith("_html"):
                self.unrendered.add(f"{table.name}.{column.name}")
            elif _needs_value(column):
                self._warn(f"{table.name}.{column.name}: NOT NULL without a default; left empty")
                fill[column.name] = functools.partial(_constant, _empty_value(column.type))
        if fill:
            rows = [row | {name: make(row) for name, make in fill.items()} for row in rows]
        return rows

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            print(f"  warning: {message}")


def _markdown_source(column: str, given: set[str]) -> str | None:
    """The Markdown column that an `x_html` column renders: `x_md`, or `x` (a factor's note)."""
    if not column.endswith("_html"):
        return None
    stem = column.removesuffix("_html")
    return next((name for name in (f"{stem}_md", stem) if name in given), None)


def _render_column(source: str, row: dict[str, Any]) -> str:
    return _rendered(row[source])


def _constant(value: Any, _row: dict[str, Any]) -> Any:
    return value


@functools.cache
def _rendered(markdown_text: str) -> str:
    """The app's sanitised HTML of a text, rendered once per distinct text."""
    from postmortems.markdown import render_markdown

    return str(render_markdown(markdown_text))


def _needs_value(column: Any) -> bool:
    return not (
        column.nullable
        or column.default is not None
        or column.server_default is not None
        or (column.primary_key and column.autoincrement in (True, "auto"))
    )


def _empty_value(column_type: Any) -> Any:
    if isinstance(column_type, Boolean):
        return False
    if isinstance(column_type, Integer):
        return 0
    if isinstance(column_type, String):  # Text too
        return ""
    return None


def render_leftover_markdown(url: str, unrendered: set[str]) -> None:
    """Fill stored HTML the generator could not pair with a source, through the app's own
    `flask markdown render` when there is one (slow: every text is rendered)."""
    if not unrendered:
        return
    from postmortems import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    group = app.cli.commands.get("markdown")
    if group is None or "render" not in getattr(group, "commands", {}):
        print(f"  warning: {sorted(unrendered)} left empty; no `flask markdown render`")
        return
    print(f"  {sorted(unrendered)} unknown to the generator: flask markdown render ...")
    result = app.test_cli_runner().invoke(args=["markdown", "render"])
    app.extensions["db_engine"].dispose()
    if result.exit_code != 0:
        raise RuntimeError(f"flask markdown render failed:\n{result.output}") from result.exception
    print(f"  {result.output.strip()}")


def build_search_index(url: str) -> None:
    """The rows went in with Core, past the session hooks that keep the search index: build
    it once now, as `flask search reindex` does."""
    from postmortems.search.index import rebuild

    began = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        documents = rebuild(conn)
    engine.dispose()
    print(f"  search index: {documents:,} documents in {time.perf_counter() - began:,.0f} s")
