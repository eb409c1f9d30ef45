"""A postmortem file's front matter (and its body's sections) as pydantic models derived from
the API's (api/schemas): every field's type, length and enum has one owner, which the API and
`flask import` both ask. The file differs from a request only where the file format does:

- it carries what an export restores (key, status, people, stamps, an external source);
- an external reference (one with a `source`) may have no `started_at`;
- an action item names its owner's account as `owner_user`, not `owner_email`;
- an impact's amount may be a whole number (`likely: 400000`), exact as YAML reads it.

Pydantic's errors become the importer's: the file's line of the field (`Record.key_lines`)
and its name as a person reads it ("impact 2 low: …").
"""

import json
from collections.abc import Mapping, Sequence
from copy import copy
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AliasGenerator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from models import IncidentStatus
from postmortems.api.schemas import (
    ActionItemIn,
    ImpactIn,
    Input,
    Instant,
    PostmortemIn,
    markdown_fields,
    text,
)
from postmortems.limits import NAME_TEXT
from postmortems.markdown import MarkdownError, check_markdown
from postmortems.transfer.files import ImportProblem, Record

EMAIL = 254


def same_as(model: type[Input], name: str) -> Any:
    """The API model's definition of a field (default, limits, description), to re-declare it
    with a type derived for the file."""
    return copy(model.model_fields[name])


class ImpactFile(ImpactIn):
    @field_validator("low", "likely", "high", mode="before")
    @classmethod
    def whole_number_is_exact(cls, value: Any) -> Any:
        """A whole number is exact as YAML reads it; a number with a point was read as a binary
        float, its digits already lost, so it must be written as text."""
        if isinstance(value, float):
            raise PydanticCustomError(
                "amount_float", "write the number in quotes, as exact text ('12.50')"
            )
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class ActionItemFile(ActionItemIn):
    model_config = ConfigDict(
        alias_generator=AliasGenerator(
            validation_alias=lambda name: "owner_user" if name == "owner_email" else name
        )
    )


class SourceFile(Input):
    """Where another organisation's postmortem comes from (a public collection)."""

    collection: str = Field(min_length=1, max_length=40)
    external_id: str = Field(min_length=1, max_length=200)
    organisation: str = text(200)
    url: str = text(1000)


class PostmortemFile(PostmortemIn):
    """One postmortem file: the API's postmortem and what an export restores besides."""

    key: str = Field(min_length=1, max_length=20)
    status: IncidentStatus = IncidentStatus.DRAFT
    # Only an external reference may have no start; the file's parts are the file's own types.
    started_at: Instant | None = None  # type: ignore[assignment]
    owner_name: str = text(NAME_TEXT, "Someone without an account.")
    author: str | None = Field(default=None, max_length=EMAIL)
    owner: str | None = Field(default=None, max_length=EMAIL)
    access_users: list[Annotated[str, Field(max_length=EMAIL)]] = Field(default=[], max_length=200)
    created_at: Instant | None = None
    updated_at: Instant | None = None
    source: SourceFile | None = None
    impacts: list[ImpactFile] = same_as(PostmortemIn, "impacts")  # type: ignore[assignment]
    action_items: list[ActionItemFile] = same_as(  # type: ignore[assignment]
        PostmortemIn, "action_items"
    )


def read_front_matter(
    record: Record, sections: Mapping[str, str], lines: Mapping[str, int]
) -> PostmortemFile:
    """The front matter (without `format`) and the body's sections as a PostmortemFile, its
    Markdown within the Markdown limits; or the first problem in the file, at its line.
    `lines`: the line of each section's mark."""
    data = _given({key: value for key, value in record.items() if key != "format"})
    try:
        # As JSON, the way the API reads a request: the same strict rules for the same fields.
        given = json.dumps({**data, **sections}, default=_json)
    except TypeError as exc:  # a YAML !!binary or !!set, which no field holds
        raise ImportProblem(str(exc), record.line) from None
    try:
        parsed = PostmortemFile.model_validate_json(given)
    except ValidationError as exc:
        errors = [(tuple(e["loc"]), _reason(e)) for e in exc.errors(include_url=False)]
        raise first_problem(errors, record, lines) from None
    try:
        check_markdown(dict(markdown_fields(parsed)))
    except MarkdownError as exc:
        errors = [(tuple(_path(name)), " ".join(m)) for name, m in exc.fields.items()]
        raise first_problem(errors, record, lines) from None
    return parsed


def _given(value: Any) -> Any:
    """The value without its empty fields: `summary:` with nothing after it is not given."""
    if isinstance(value, dict):
        return {str(key): _given(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_given(item) for item in value]
    return value


def _json(value: Any) -> str:
    """YAML's own dates and times as ISO text; a time YAML read without a zone is UTC (YAML's
    rule), where text without one is read in the configured zone (the API's)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"a value of YAML type {type(value).__name__!r}, which no field holds")


def _path(name: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in name.split(".")]


Loc = tuple[str | int, ...]


def first_problem(
    errors: Sequence[tuple[Loc, str]], record: Record, lines: Mapping[str, int]
) -> ImportProblem:
    """The first error in the file's order, named and placed as the file has it."""
    placed = [
        (line_of(loc, record, lines), n, loc, reason) for n, (loc, reason) in enumerate(errors)
    ]
    line, _, loc, reason = min(placed, key=lambda p: (p[0] is None, p[0] or 0, p[1]))
    if reason.startswith("unknown field"):
        loc = loc[:-1]  # the field is named in the reason; say what it is in
    name = field_name(loc)
    return ImportProblem(f"{name}: {reason}" if name else reason, line)


def line_of(loc: Loc, record: Record, lines: Mapping[str, int]) -> int | None:
    """The line of the field at `loc`: its key's, or the mapping's that lacks it."""
    if loc and loc[0] in lines:
        return lines[str(loc[0])]
    node: Any = record
    line = record.line
    for part in loc:
        if isinstance(node, Record):
            line = node.key_lines.get(str(part), node.line)
            node = node.get(str(part))
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = node.line if isinstance(node, Record) else line
        else:
            break
    return line


PART_NAMES = {
    "timeline": "timeline event",
    "factors": "factor",
    "impacts": "impact",
    "lessons": "lesson",
    "action_items": "action item",
}


def field_name(loc: Loc) -> str:
    """("impacts", 1, "low") as a person counts: "impact 2 low"."""
    words = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            words.append(str(part + 1))
        elif index + 1 < len(loc) and isinstance(loc[index + 1], int):
            words.append(PART_NAMES.get(part, part))
        else:
            words.append(part)
    return " ".join(words)


def _reason(error: ErrorDetails) -> str:
    """Pydantic's error in the words `flask import` has always used."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return f"unknown field {str(error['loc'][-1])!r}"
    if kind == "enum":
        return f"{value!r} is not one of {ctx['expected']}"
    if kind.startswith("datetime"):
        return f"{value!r} is not a date and time (2020-08-17T09:30:00Z)"
    if kind.startswith("date"):
        return f"{value!r} is not a date (2020-08-17)"
    if kind.startswith("bool"):
        return "expected true or false"
    if kind == "string_type":
        return "expected text (in quotes if it reads as a number or a date)"
    if kind == "string_too_short":
        return "missing"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']:,} characters, found {len(value):,}"
    if kind == "too_long":
        return f"at most {ctx['max_length']:,} entries, found {ctx['actual_length']:,}"
    if kind == "list_type":
        return "expected a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a mapping of fields"
    if kind.startswith("int"):
        return "expected a whole number"
    return error["msg"]  # pydantic's own words for the rest (a pattern, a choice of values)
