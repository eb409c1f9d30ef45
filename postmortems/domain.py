"""The one kind of error every service raises when a change would break a domain rule.

Services take plain values, check the rules and raise `DomainError` naming the fields that are
wrong; forms put each message beside its field, the API returns them as JSON, the CLI prints
them. `ConflictError` is the same error for a change that lost a race with another one.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class DomainError(Exception):
    """A change refused by a domain rule: a message, and messages per field name."""

    def __init__(self, message: str = "", fields: Mapping[str, list[str]] | None = None) -> None:
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}
        if not message:
            message = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.fields.items())
        super().__init__(message)
        self.message = message


class ConflictError(DomainError):
    """Someone else changed the same thing first; nothing of this change was saved."""


class NotFoundError(DomainError):
    """A change names something that does not exist (or is not shared with the one asking):
    pages answer 404, the API a 404 with the message."""


class Problems:
    """Collects what is wrong with a set of values, then raises them together as one error.

    Every rule adds its problem and the next rule goes on, so one answer names them all. A
    whole postmortem is checked into one collection: `under("impacts-1")` is the same
    collection with the row's name put before each field ("impacts-1-low")."""

    def __init__(self, prefix: str = "", fields: dict[str, list[str]] | None = None) -> None:
        self.fields: dict[str, list[str]] = fields if fields is not None else {}
        self._prefix = prefix

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(self._prefix + field, []).append(message)

    def has(self, field: str) -> bool:
        """Whether `field` already has a problem (a later rule that reads it may step aside)."""
        return self._prefix + field in self.fields

    def under(self, name: str) -> "Problems":
        """This collection, for the fields of the row called `name`."""
        return Problems(f"{self._prefix}{name}-", self.fields)

    def add_error(self, error: DomainError) -> None:
        """Take in what a refused change named: its fields, or else its message."""
        for field, messages in error.fields.items():
            for message in messages:
                self.add(field, message)
        if not error.fields:  # said of the whole: of the row, under a row's name
            self.fields.setdefault(self._prefix.removesuffix("-"), []).append(error.message)

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Run a check that raises, keeping its problems here instead. A lost race
        (ConflictError) or a missing thing (NotFoundError) is no problem to list: it goes up."""
        try:
            yield
        except (ConflictError, NotFoundError):
            raise
        except DomainError as exc:
            self.add_error(exc)

    def check_length(self, field: str, value: str, maximum: int) -> None:
        if len(value) > maximum:
            self.add(field, f"At most {maximum} characters.")

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self, error: type[DomainError] = DomainError, message: str = "") -> None:
        if self.fields:
            raise error(message, self.fields)
