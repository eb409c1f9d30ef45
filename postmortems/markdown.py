"""User Markdown to safe HTML: `markdown` renders, `nh3` removes anything not on the allow-list.

Also the one owner of the limits on Markdown (see docs/limits.md): Python-Markdown takes time
that grows faster than the text for some inputs (unclosed `[`, deep lists, runs of headings),
and recurses for nested lists. `markdown_problem` checks a text before anything else happens to
it; the form, the API, the import and the preview all ask it, and a Markdown column refuses a
value it finds a problem in.
"""

import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import unescape
from types import FrameType
from typing import Any, cast

import markdown as md
import nh3
from flask import current_app, g, has_app_context
from markupsafe import Markup, escape
from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import Session

from models import ActionItem, GuardCheck, Incident, IncidentFactor, Lesson, TimelineEvent
from models.incident import SECTION_NAMES
from postmortems.domain import DomainError

# What Markdown's output may keep, read as words: one string per kind of element.
ALLOWED_TAGS = set(
    " ".join(
        [
            "p br hr h1 h2 h3 h4 h5 h6",  # text and headings
            "blockquote pre code em strong del",  # quotes and inline
            "ul ol li a",  # lists and links
            "table thead tbody tr th td",  # tables
        ]
    ).split()
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "th": {"align", "style"},
    "td": {"align", "style"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists"]


_converters = threading.local()


def _converter() -> md.Markdown:
    """This thread's Markdown converter: building one (its extensions and patterns) costs more
    than most conversions, and one instance must not convert two texts at once."""
    converter: md.Markdown | None = getattr(_converters, "markdown", None)
    if converter is None:
        converter = md.Markdown(extensions=EXTENSIONS, output_format="html")
        _converters.markdown = converter
    return converter


@dataclass(frozen=True)
class MarkdownLimits:
    """How much Markdown one text may hold (the MARKDOWN_* settings)."""

    max_chars: int = 100_000
    max_nesting: int = 16
    max_unclosed_brackets: int = 100
    render_seconds: float = 0.5


def markdown_limits() -> MarkdownLimits:
    """The limits from the app's configuration; the defaults outside an app."""
    if not has_app_context():
        return MarkdownLimits()
    config = current_app.config
    return MarkdownLimits(
        max_chars=config["MARKDOWN_MAX_CHARS"],
        max_nesting=config["MARKDOWN_MAX_NESTING"],
        max_unclosed_brackets=config["MARKDOWN_MAX_UNCLOSED_BRACKETS"],
        render_seconds=config["MARKDOWN_RENDER_SECONDS"],
    )


class MarkdownError(DomainError):
    """A Markdown text over one of the limits."""


class RenderTooSlow(Exception):
    """Rendering used up its time budget."""


# A list item's or a quote's mark at the start of a line (after what it is nested in).
NESTING_MARK = re.compile(r"[ \t]*(?:[*+-][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?)")
FENCE = re.compile(r" {0,3}(```|~~~)")


def _nesting(text: str) -> int:
    """The deepest nesting of lists and quotes: the marks that open a line, and each four
    spaces of indentation before them (outside fenced code, where marks are only text)."""
    deepest, fenced = 0, False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        marks, position = 0, 0
        while (mark := NESTING_MARK.match(line, position)) is not None and mark.end() > position:
            marks, position = marks + 1, mark.end()
        if marks:
            indent = len(line) - len(line.lstrip(" \t"))
            deepest = max(deepest, marks + line[:indent].expandtabs(4).count("    "))
    return deepest


def _brackets(text: str) -> tuple[int, int]:
    """(`[` left unclosed, summed over the paragraphs; the deepest pair of [ ] inside others).
    Each unclosed `[` makes Python-Markdown search the rest of its paragraph for a `]`."""
    unclosed = deepest = 0
    for paragraph in re.split(r"\n[ \t]*\n", text):
        depth = 0
        for char in re.sub(r"\\.", "", paragraph):
            if char == "[":
                depth += 1
            elif char == "]" and depth:
                deepest = max(deepest, depth)
                depth -= 1
        unclosed += depth
    return unclosed, deepest


def markdown_problem(text: str | None) -> str | None:
    """Why this Markdown is refused, in words for the person who wrote it, or None.

    Cheap checks first; then the text is rendered within the time budget, and the HTML kept
    for this request or command so that saving it does not render it again (under a lock).
    """
    if not text or (has_app_context() and text in g.get("rendered_markdown", {})):
        return None  # nothing, or checked already in this request
    limits = markdown_limits()
    if len(text) > limits.max_chars:
        return f"At most {limits.max_chars:,} characters ({len(text):,} given)."
    if _nesting(text) > limits.max_nesting:
        return f"Lists and quotes nest at most {limits.max_nesting} deep here."
    unclosed, deepest = _brackets(text)
    if deepest > limits.max_nesting:
        return f"Brackets [ ] nest at most {limits.max_nesting} deep here."
    if unclosed > limits.max_unclosed_brackets:
        return (
            f"At most {limits.max_unclosed_brackets} unclosed [ brackets ({unclosed:,} given): "
            "close them, or write \\[ for a bracket that starts no link."
        )
    try:
        html = _render(text, limits.render_seconds)
    except (RenderTooSlow, RecursionError):
        return (
            f"This text takes too long to format (over {limits.render_seconds:g} s): "
            "split it, or use fewer headings, lists or links in one block."
        )
    if has_app_context():
        g.setdefault("rendered_markdown", {})[text] = html
    return None


def check_markdown(values: dict[str, str | None]) -> None:
    """Raise MarkdownError naming every field (name: text) whose Markdown is refused."""
    problems = {name: [p] for name, text in values.items() if (p := markdown_problem(text))}
    if problems:
        raise MarkdownError(fields=problems)


def render_markdown(text: str | None) -> Markup:
    """Render Markdown and sanitise the HTML; the only way user text becomes markup.

    A text that cannot be rendered in time (only one never checked: rows from before the
    limits) is shown as plain, escaped text instead of failing the page.
    """
    if not text:
        return Markup("")
    kept = g.get("rendered_markdown", {}).pop(text, None) if has_app_context() else None
    if kept is not None:
        return Markup(kept)  # noqa: S704 - rendered and sanitised by markdown_problem
    try:
        return Markup(_render(text, markdown_limits().render_seconds))  # noqa: S704 - sanitised
    except (RenderTooSlow, RecursionError):
        return Markup("<pre>%s</pre>") % escape(text)


def _render(text: str, seconds: float) -> str:
    """The sanitised HTML of `text`, or RenderTooSlow once it used `seconds` of CPU time.

    Python cannot stop a thread from outside, so a trace function (this thread only, called
    at each Python function call) looks at the clock and raises into the renderer.
    """
    deadline = time.thread_time() + seconds
    clock = time.thread_time

    def budget(_frame: FrameType, _event: str, _arg: Any) -> None:
        if clock() > deadline:
            raise RenderTooSlow

    previous = sys.gettrace()
    sys.settrace(budget)
    try:
        html = _converter().reset().convert(text)
    finally:
        sys.settrace(previous)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
    )


# Where a block ends: its text is kept apart from the next block's in plain text.
BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|pre|blockquote|tr|td|th|table|ul|ol|div)>|<br\s*/?>")


def plain_text(html: str) -> str:
    """The text of rendered, sanitised HTML as a reader sees it: no tags, entities decoded,
    blocks and table cells kept apart by a line break."""
    return unescape(nh3.clean(BLOCK_END.sub(r"\g<0>\n", html), tags=set()))


# Every Markdown column and the column that keeps its rendered HTML.
STORED_HTML = [
    *((Incident, name, name.removesuffix("_md") + "_html") for name in SECTION_NAMES),
    (TimelineEvent, "text_md", "text_html"),
    (IncidentFactor, "note", "note_html"),
    (Lesson, "text_md", "text_html"),
    (ActionItem, "details_md", "details_html"),
    (GuardCheck, "description_md", "description_html"),
]


def keep_html_rendered() -> None:
    """Render a Markdown column to its HTML column whenever it is set, so that pages show
    stored HTML instead of rendering on every view. Registered once per process."""
    for model, source, target in STORED_HTML:
        attribute = getattr(model, source)
        if not event.contains(attribute, "set", _render_into(target)):
            event.listen(attribute, "set", _render_into(target))


@cache
def _render_into(target: str) -> Callable[[Any, Any, Any, Any], None]:
    """The listener that stores the rendered HTML of a new value in `target` (one per column,
    cached so that registering twice is recognised)."""

    def listener(obj: Any, value: Any, _old: Any, initiator: Any) -> None:
        # The last guard of every path that writes Markdown: a value over the limits is refused
        # before it is stored (the form, the API and the import have asked already).
        check_markdown({initiator.key: value})
        setattr(obj, target, str(render_markdown(value)))

    return listener


# The names Markdown fields have in forms and requests: those of the Markdown columns.
MARKDOWN_FIELD_NAMES = frozenset(source for _model, source, _target in STORED_HTML)
HTML_COLUMN = {(model, source): target for model, source, target in STORED_HTML}
# The same by column name alone (a name means one thing on every table: text_md -> text_html).
HTML_COLUMN_NAMED = {source: target for _model, source, target in STORED_HTML}


def markdown_of(obj: Any, source: str) -> Markup:
    """A row's Markdown column as sanitised HTML: the HTML stored when it was saved, or the
    source rendered now when none is stored (rows older than stored HTML, or bulk loads)."""
    html = getattr(obj, HTML_COLUMN[(type(obj), source)])
    if html is None:
        return render_markdown(getattr(obj, source))
    return Markup(html)  # noqa: S704 - rendered by render_markdown when it was saved


def render_all(session: Session) -> int:
    """Render every Markdown column again (after the sanitiser changed); return rows touched.

    Works in batches by primary key, so memory stays flat whatever the number of rows.
    """
    touched = 0
    for model, source, target in STORED_HTML:
        table = cast(Table, model.__table__)
        last_id = 0
        while True:
            rows = session.execute(
                select(table.c.id, table.c[source])
                .where(table.c.id > last_id)
                .order_by(table.c.id)
                .limit(1000)
            ).all()
            if not rows:
                break
            session.execute(
                update(table).where(table.c.id == bindparam("row_id")),
                [{"row_id": row_id, target: str(render_markdown(text))} for row_id, text in rows],
            )
            touched += len(rows)
            last_id = rows[-1][0]
    return touched
