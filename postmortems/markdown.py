"""User Markdown to safe HTML: `markdown` renders, `nh3` removes anything not on the allow-list."""

import threading
from collections.abc import Callable
from functools import cache
from typing import Any, cast

import markdown as md
import nh3
from markupsafe import Markup
from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import Session

from models import ActionItem, GuardCheck, Incident, IncidentFactor, Lesson, TimelineEvent
from models.incident import SECTION_NAMES

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
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


def render_markdown(text: str | None) -> Markup:
    """Render Markdown and sanitise the HTML; the only way user text becomes markup."""
    if not text:
        return Markup("")
    html = _converter().reset().convert(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


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

    def listener(obj: Any, value: Any, _old: Any, _initiator: Any) -> None:
        setattr(obj, target, str(render_markdown(value)))

    return listener


HTML_COLUMN = {(model, source): target for model, source, target in STORED_HTML}


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
