"""The one kind of error every service raises when a change would break a domain rule.

Services take plain values, check the rules and raise `DomainError` naming the fields that are
wrong; forms put each message beside its field, the API returns them as JSON, the CLI prints
them. `ConflictError` is the same error for a change that lost a race with another one.
"""

from collections.abc import Mapping


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
    """Collects what is wrong with a set of values, then raises them together as one error."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def check_length(self, field: str, value: str, maximum: int) -> None:
        if len(value) > maximum:
            self.add(field, f"At most {maximum} characters.")

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self, error: type[DomainError] = DomainError, message: str = "") -> None:
        if self.fields:
            raise error(message, self.fields)
