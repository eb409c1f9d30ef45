"""Conversion between stored UTC and the team's time zone (POSTMORTEMS_TIMEZONE)."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    """Show an aware UTC datetime in the team's zone."""
    return value.astimezone(local_zone())


def from_local(value: datetime) -> datetime:
    """Read a naive datetime typed in the team's zone as an aware UTC datetime."""
    return value.replace(tzinfo=local_zone()).astimezone(UTC)


def local_date(value: datetime) -> date:
    return to_local(value).date()


def start_of_local_day(day: date) -> datetime:
    """The UTC instant at which `day` begins in the team's zone."""
    return from_local(datetime.combine(day, time.min))


def local_today() -> date:
    """Today's date in the team's zone."""
    return datetime.now(local_zone()).date()
