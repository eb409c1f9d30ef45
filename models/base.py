"""The declarative Base shared by every model, and the column types they use."""

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, Numeric, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

# Alembic needs stable constraint names to alter tables later (SQLite batch mode above all).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


# Every stored instant lies in this range: far enough from year 1 and 9999 that converting
# it to any time zone, or adding a quarter to it, can never overflow a datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)


def in_stored_range(value: datetime) -> bool:
    """Whether an aware datetime lies between EARLIEST and LATEST."""
    return EARLIEST <= value <= LATEST


# Another organisation's incident may be older than the tracker's range (a shipwreck of 1628,
# a moon landing of 1969): its times, as its source states them, may go back to this. Years of
# four digits keep SQLite's text order and strftime's %Y right, and no time zone conversion of
# such a date can overflow. Our own incidents stay within EARLIEST–LATEST (the services).
REFERENCE_EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)


def in_reference_range(value: datetime) -> bool:
    """Whether an aware datetime lies between REFERENCE_EARLIEST and LATEST."""
    return REFERENCE_EARLIEST <= value <= LATEST


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every database.

    SQLite has no time zones, so the conversion happens here, once, instead of in every query.
    Services refuse out-of-range values with a message first; this is the last line.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self, earliest: datetime = EARLIEST) -> None:
        super().__init__()
        self.earliest = earliest  # REFERENCE_EARLIEST for an incident's own times

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        if not self.earliest <= value <= LATEST:
            raise ValueError(f"{value.isoformat()} is outside {self.earliest.year}–{LATEST.year}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, text on SQLite.

    SQLite keeps NUMERIC values as binary floats, so 12345.67 would come back changed in its
    last digits for large amounts; text keeps every digit as it was typed.
    """

    impl = Numeric(24, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes Decimal, not {type(value).__name__}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Enums are stored as their names in a VARCHAR, so new members need no database type change.
    type_annotation_map = {
        enum.Enum: Enum(enum.Enum, native_enum=False, length=32, validate_strings=True),
        datetime: UTCDateTime(),
        Decimal: ExactDecimal(),
    }


class LabelledEnum(enum.Enum):
    """An enum whose members have name == value and a human label.

    Subclasses give labels as `_labels = enum.nonmember({"NAME": "Label"})`.
    """

    @property
    def label(self) -> str:
        labels: dict[str, str] = getattr(type(self), "_labels", {})
        return labels.get(self.name, self.name.replace("_", " ").capitalize())

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.name, member.label) for member in cls]
