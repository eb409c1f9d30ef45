"""Rate limits of the API: requests per minute per token and per client address, and requests
with a missing or bad token per address (much lower), answered 429 with Retry-After.

Counted in the database in fixed one-minute windows (one `api_request_count` row per key and
minute), so that every worker process counts the same requests, like the failed sign-ins of
postmortems/auth. Each API request writes once, in a short transaction of its own that commits
at once (the table is bookkeeping: it moves no figure's data version).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import ApiRequestCount, utcnow
from postmortems.db import bookkeeping

WINDOW = timedelta(minutes=1)
# Old windows are deleted when a client's new window begins; an hour keeps a little history.
KEPT = timedelta(hours=1)
ADDRESS_LENGTH = 64
TOO_MANY_REQUESTS = "Too many requests from this token or address; wait and try again."
TOO_MANY_FAILURES = (
    "Too many requests with a missing or bad token from this address; wait and try again."
)


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed in one minute; 0 turns a limit off."""

    per_token: int
    per_address: int
    failed_per_address: int

    @classmethod
    def from_config(cls, app: Flask) -> "RateLimits":
        config = app.config
        return cls(
            per_token=config["API_REQUESTS_PER_MINUTE_PER_TOKEN"],
            per_address=config["API_REQUESTS_PER_MINUTE_PER_ADDRESS"],
            failed_per_address=config["API_FAILED_AUTH_PER_MINUTE_PER_ADDRESS"],
        )


class RateLimited(Exception):
    """Over a limit: wait `retry_after` seconds (until the next window begins)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def window_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _retry_after(now: datetime) -> int:
    return max(1, math.ceil((window_of(now) + WINDOW - now).total_seconds()))


def _address_key(address: str) -> str:
    return "address:" + address[:ADDRESS_LENGTH]


def _failed_key(address: str) -> str:
    return "failed:" + address[:ADDRESS_LENGTH]


def refuse_if_failing(address: str, limits: RateLimits) -> None:
    """Before a token is even looked at: refuse an address that sent too many bad ones in this
    minute, as sign-in refuses before checking a password."""
    if not limits.failed_per_address:
        return
    now = utcnow()
    stmt = select(ApiRequestCount.count).where(
        ApiRequestCount.window_start == window_of(now),
        ApiRequestCount.key == _failed_key(address),
    )
    reader: Session
    with current_app.extensions["db_sessionmaker"]() as reader:
        failures = reader.scalar(stmt) or 0
    if failures >= limits.failed_per_address:
        raise RateLimited(TOO_MANY_FAILURES, _retry_after(now))


def count_request(
    address: str, limits: RateLimits, *, token_id: int | None = None, failed: bool = False
) -> None:
    """Count this request against its address, and against its token or (`failed`: it had
    no live token) as a failure of its address; RateLimited when a count is over its limit."""
    now = utcnow()
    window = window_of(now)
    checks = [(_address_key(address), limits.per_address, TOO_MANY_REQUESTS)]
    if failed:
        checks.append((_failed_key(address), limits.failed_per_address, TOO_MANY_FAILURES))
    if token_id is not None:
        checks.append((f"token:{token_id}", limits.per_token, TOO_MANY_REQUESTS))
    checks = [check for check in checks if check[1]]
    if not checks:
        return
    with bookkeeping() as writer:
        counts = [_add_one(writer, window, key) for key, _, _ in checks]
        if counts[0] == 1:  # a new window for this client: forget the old ones
            writer.execute(delete(ApiRequestCount).where(ApiRequestCount.window_start < now - KEPT))
    for count, (_, limit, message) in zip(counts, checks, strict=True):
        if count > limit:
            raise RateLimited(message, _retry_after(now))


def _add_one(writer: Session, window: datetime, key: str) -> int:
    """Add one to the key's count in this window (making the row if it is the first); the new
    count, in one statement, so that two workers counting at once both count."""
    dialect = writer.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ApiRequestCount)
        .values(window_start=window, key=key, count=1)
        .on_conflict_do_update(
            index_elements=["window_start", "key"],
            set_={"count": ApiRequestCount.count + 1},
        )
        .returning(ApiRequestCount.count)
    )
    return int(writer.execute(stmt).scalar_one())
