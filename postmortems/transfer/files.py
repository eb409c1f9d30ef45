"""The file format shared by export and import: YAML written the same way every time, Markdown
files with YAML front matter, and the errors that name a file, a line and a reason."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast

import yaml

from postmortems.domain import DomainError
from postmortems.limits import LONG_TEXT

try:  # libyaml's parser where it is built in (PyYAML's wheels have it): ten times faster
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader  # type: ignore[assignment]


E = TypeVar("E", bound=Enum)


class ImportProblem(Exception):
    """One file (or one record of it) that cannot be imported: where, and why."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line

    def where(self, name: str) -> str:
        return f"{name}:{self.line}" if self.line else name


def refused(record: "Record", exc: DomainError) -> ImportProblem:
    """A service's refusal of a record, at the record's line."""
    return ImportProblem(f"refused: {exc.message}", record.line)


# Writing.


class _Dumper(yaml.SafeDumper):
    """Safe YAML; text of several lines as a literal block, so Markdown reads as Markdown."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML for `data`: keys sorted, Unicode kept, block style; the same text every time."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, default_flow_style=False
    )
    return text


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 UTC with Z, seconds always shown."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    if value.microsecond:
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return text + "Z"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def front_matter_file(fields: dict[str, Any], body: str) -> str:
    return f"---\n{dump_yaml(fields)}---\n{body}"


# Reading.

NUL = "\x00"
NUL_REFUSED = "a NUL character (U+0000), which no text may hold"


def decode_text(data: bytes) -> str:
    """A file's bytes as UTF-8 text; bytes that are not give the line and the byte offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise ImportProblem(
            f"not UTF-8 text: byte 0x{byte} at byte offset {exc.start} ({exc.reason}); "
            "save the file as UTF-8",
            line,
        ) from None


def check_text(name: str, text: str, line: int | None, limit: int = LONG_TEXT) -> None:
    """Refuse a NUL character (PostgreSQL stores none) and text longer than the API allows."""
    if NUL in text:
        raise ImportProblem(f"{name}: {NUL_REFUSED}", line)
    if len(text) > limit:
        raise ImportProblem(f"{name}: at most {limit:,} characters, found {len(text):,}", line)


class Record(dict[str, Any]):
    """A YAML mapping that remembers the line of each key (1-based, in the whole file)."""

    line: int | None = None
    key_lines: dict[str, int]


def _loader_for(first_line: int) -> type[SafeLoader]:
    class Loader(SafeLoader):
        pass

    def construct_mapping(loader: SafeLoader, node: yaml.MappingNode) -> Record:
        _refuse_duplicates(loader, node, first_line)
        record = Record(cast(dict[str, Any], loader.construct_mapping(node, deep=True)))
        record.line = node.start_mark.line + first_line
        record.key_lines = {
            str(key.value): key.start_mark.line + first_line
            for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)
        }
        for key, value in record.items():  # an escape ("\0") writes a NUL the reader lets by
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and NUL in text for text in texts):
                raise ImportProblem(f"{key}: {NUL_REFUSED}", record.key_lines.get(str(key)))
        return record

    def construct_timestamp(loader: SafeLoader, node: yaml.ScalarNode) -> date | datetime:
        """YAML reads `2024-02-30` as a date and fails with a bare ValueError: give its line."""
        try:
            return SafeLoader.construct_yaml_timestamp(loader, node)
        except ValueError:
            example = "(2020-08-17) or date and time (2020-08-17T09:30:00Z)"
            line = node.start_mark.line + first_line
            raise ImportProblem(f"{node.value!r} is not a date {example}", line) from None

    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    return Loader


def _refuse_duplicates(loader: SafeLoader, node: yaml.MappingNode, first_line: int) -> None:
    """The same key twice in one mapping: YAML loaders keep the last one silently, so that
    `is_restricted: true` then `false` would import unrestricted. Which one is meant?"""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults`: keys written beside it override the merged ones
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + first_line
        try:
            if key in seen:
                raise ImportProblem(
                    f"duplicate field {key!r} (lines {seen[key]} and {line}): which one is meant?",
                    line,
                )
            seen[key] = line
        except TypeError:  # an unhashable key: the constructor refuses it with its line
            continue


def load_yaml(text: str, first_line: int = 1) -> Any:
    """Parse YAML safely; a syntax error becomes an ImportProblem with its line. A key given
    twice in one mapping, or a NUL character in a value, is refused with its line."""
    try:
        return yaml.load(text, Loader=_loader_for(first_line))  # noqa: S506 (a SafeLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (a NUL, a control)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        # libyaml counts the position in bytes, PyYAML in characters: find the character.
        at = text.find(chr(code))
        row = first_line + text.count("\n", 0, at if at >= 0 else exc.position or 0)
        if code == 0:
            raise ImportProblem(NUL_REFUSED, row) from None
        raise ImportProblem(f"broken YAML: the control character U+{code:04X}", row) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else None
        raise ImportProblem(f"broken YAML: {exc.problem or exc}", line) from exc
    except yaml.YAMLError as exc:
        raise ImportProblem(f"broken YAML: {exc}") from exc


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.DOTALL | re.MULTILINE)


def split_front_matter(text: str) -> tuple[Record, str, int]:
    """The front matter (a Record), the body after it, and the body's first line number."""
    match = FRONT_MATTER.match(text)
    if match is None:
        raise ImportProblem("no front matter: the file must start with a line '---'", 1)
    data = load_yaml(match.group(1), first_line=2)
    if not isinstance(data, Record):
        raise ImportProblem("the front matter is not a mapping of fields", 2)
    body_line = text.count("\n", 0, match.end()) + 1
    return data, text[match.end() :], body_line


@dataclass
class Fields:
    """Reads typed values out of one Record, and refuses fields nobody reads."""

    record: Record

    def __post_init__(self) -> None:
        self.read: set[str] = set()

    def line(self, name: str | None = None) -> int | None:
        if name is not None and name in self.record.key_lines:
            return self.record.key_lines[name]
        return self.record.line

    def problem(self, name: str, reason: str) -> ImportProblem:
        return ImportProblem(f"{name}: {reason}", self.line(name))

    def raw(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        value = self.record.get(name, default)
        return default if value is None else value

    def text(self, name: str, default: str = "", limit: int = LONG_TEXT) -> str:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.problem(name, "expected text")
        check_text(name, str(value), self.line(name), limit)
        return str(value)

    def required_text(self, name: str) -> str:
        if self.raw(name) in (None, ""):
            raise self.problem(name, "missing")
        return self.text(name)

    def optional_text(self, name: str) -> str | None:
        return None if self.raw(name) is None else self.text(name)

    def flag(self, name: str) -> bool:
        value = self.raw(name, False)
        if not isinstance(value, bool):
            raise self.problem(name, "expected true or false")
        return value

    def integer(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.problem(name, "expected a whole number")
        return value

    def enum(self, name: str, kind: type[E], default: E | None = None) -> E:
        value = self.raw(name)
        if value is None and default is not None:
            return default
        try:
            return kind[str(value)]
        except KeyError:
            names = ", ".join(member.name for member in kind)
            raise self.problem(name, f"{value!r} is not one of {names}") from None

    def instant(self, name: str) -> datetime | None:
        value = self.raw(name)
        if value is None:
            return None
        parsed = _parse_instant(value)
        if parsed is None:
            raise self.problem(name, f"{value!r} is not a date and time (2020-08-17T09:30:00Z)")
        return parsed

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if value is None or isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.problem(name, f"{value!r} is not a date (2020-08-17)") from None

    def records(self, name: str) -> list[Record]:
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Record) for v in value):
            raise self.problem(name, "expected a list of mappings")
        return list(value)

    def finish(self) -> None:
        """Refuse any field that was not read: a typo must not be dropped silently."""
        unknown = sorted(set(self.record) - self.read, key=str)
        if unknown:
            raise ImportProblem(f"unknown field {unknown[0]!r}", self.line(str(unknown[0])))


def _parse_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # YAML: no zone is UTC
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


@contextmanager
def at_line(line: int | None) -> Iterator[None]:
    """Give a problem raised inside (a service's refusal) the line of the record it came from."""
    try:
        yield
    except ImportProblem as exc:
        if exc.line is None:
            exc.line = line
        raise
