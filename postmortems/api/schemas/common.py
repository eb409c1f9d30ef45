"""The building blocks of the API's models: value types (ids, instants, exact amounts), the
patterns that document the services' rules, and the strict Input and Output bases."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import pycountry
from pydantic import BaseModel, ConfigDict, Field

from postmortems.db import MAX_ID
from postmortems.incidents.parts import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS
from postmortems.markdown import MARKDOWN_FIELD_NAMES

# Markdown fields have no length here: the Markdown limits (MARKDOWN_MAX_CHARS and the rest,
# postmortems/markdown.py) are checked for them after parsing, naming the field the same way.
MARKDOWN = "Markdown, within the Markdown limits (at most 100,000 characters by default)."

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A text the services refuse when it is blank: something other than white space.
NOT_BLANK = r"\S"
BLANK = r"^\s*$"
# The years of a stored instant (1970–2100 UTC), less the two days at its ends, where an
# offset could carry a time outside it; a leap second (:60) is no time Python can hold.
YEARS = r"(19[7-9][0-9]|20[0-9][0-9]|2100)"
IN_RANGE = (
    r"^(?!1970-01-01|2100-12-31)" + YEARS + r"-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-5][0-9]:[0-5][0-9]"
)
DAY_IN_RANGE = r"^(?!1970-01-01|2100-12-31)" + YEARS + r"-"
# What the services take as a link: http(s), a host, no white space or control characters.
HTTP_LINK = (
    r"^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+"
    r"([/?#][^\s\x00-\x1f\x7f]*)?\s*$"
)
CURRENCIES = sorted(currency.alpha_3 for currency in pycountry.currencies)


def states(**schema: Any) -> dict[str, Any]:
    """A service's rule as schema keywords, for `json_schema_extra` (the service enforces it)."""
    return schema


# Exact decimals as strings (JSON numbers are binary floats in most clients). The limits are
# the impact service's (read_amount), which refuses a value outside them with its own message,
# the same the form and `flask import` give; the pattern here only documents them.
Amount = Annotated[
    str,
    Field(
        max_length=100,
        description=(
            f'An exact decimal as a string, e.g. "400000" or "12.50": up to '
            f"{MAX_INTEGER_DIGITS} digits before the point and {MAX_FRACTION_DIGITS} after."
        ),
        examples=["400000.00"],
        json_schema_extra={
            "pattern": rf"^[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?$"
        },
    ),
]
Instant = Annotated[
    datetime,
    Field(
        description=(
            "ISO 8601. With `Z` or an offset it is that instant; without one it is read in "
            "the configured zone (POSTMORTEMS_TIMEZONE). From 1970-01-02 to 2100-12-30."
        ),
        examples=["2020-08-14T09:30:00Z"],
        json_schema_extra=states(pattern=IN_RANGE),
    ),
]


def text(limit: int, description: str = "", **schema: Any) -> Any:
    return Field(
        default="",
        max_length=limit,
        description=description or None,
        json_schema_extra=schema or None,
    )


def filled(limit: int, description: str = "") -> Any:
    """A text that must not be blank (the service says so too)."""
    return Field(
        max_length=limit,
        description=description or None,
        json_schema_extra=states(pattern=NOT_BLANK),
    )


class Input(BaseModel):
    """Request bodies: unknown fields refused, no type coercion. Patterns are Python's, as the
    document's readers (Schemathesis, jsonschema) read them."""

    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


def markdown_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path as in error answers, text) of every Markdown field in a parsed body, for
    the Markdown limits (check_markdown), which the API and `flask import` both ask."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            item, at = getattr(value, name), f"{path}{name}"
            if name in MARKDOWN_FIELD_NAMES and isinstance(item, str):
                yield at, item
            else:
                yield from markdown_fields(item, f"{at}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from markdown_fields(item, f"{path}{index}.")
