"""Template filters that turn stored values into text without changing them."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import Flask
from markupsafe import Markup, escape

from postmortems.markdown import keep_html_rendered, markdown_of, render_markdown
from postmortems.numbers import amount
from postmortems.timezones import to_local


def format_amount(value: Decimal | None, currency: str | None = None) -> str:
    """Show a decimal exactly, digits grouped, cents kept for money (numbers.amount)."""
    return amount(value, currency)


def format_datetime(value: datetime | None) -> str:
    """Show a stored UTC datetime in the team's zone."""
    return "—" if value is None else to_local(value).strftime("%Y-%m-%d %H:%M")


# An incident's start is unknown only for another organisation's whose source states none.
START_UNKNOWN = "start unknown"


def format_start(value: datetime | None) -> str:
    """Show an incident's start in the team's zone, or that it is unknown."""
    return START_UNKNOWN if value is None else format_datetime(value)


def format_date(value: date | None) -> str:
    return "—" if value is None else value.isoformat()


def format_duration(value: timedelta | None) -> str:
    """Show a duration in days, hours and minutes (seconds are dropped, never rounded up)."""
    if value is None:
        return "—"
    sign = "−" if value < timedelta(0) else ""
    minutes = int(abs(value).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    text = " ".join(p for p in parts if p and p != "0 min") or "0 min"
    return sign + text


INLINE_CODE = re.compile(r"`([^`]+)`")


def inline_code(text: str | None) -> Markup:
    """A one-line title with its `code` spans shown as code; everything else escaped."""
    return Markup(INLINE_CODE.sub(r"<code>\1</code>", str(escape(text or ""))))  # noqa: S704


def register_filters(app: Flask) -> None:
    keep_html_rendered()
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(markdown_of, "markdown_of")
    app.add_template_filter(format_amount, "amount")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_start, "start")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_duration, "duration")
    app.add_template_filter(inline_code, "inline_code")
