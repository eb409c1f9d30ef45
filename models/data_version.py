"""A counter of committed changes: cached figures are good while it stays the same."""

from datetime import date, datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class DataVersion(Base):
    """One row (id 1) whose number goes up with every committed change made through the
    services; a page may keep a figure it computed until the number moves."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(default=0)


class FigureVersion(Base):
    """How often the report figures of one month of incidents changed: `scope` is the UTC
    month of the incidents' start ("2024-03"), or "*" for a change that may move any month's
    figures (a factor's category, a guard check removed). Reports keep each month's figures
    until its number, or that of "*", moves (reports/piece_store.py)."""

    __tablename__ = "figure_version"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[int] = mapped_column(default=0)


class FigurePiece(Base):
    """One month piece of the report figures (reports/piece_store.py), stored for every worker
    and instance: `narrowing` names the zone and the narrowing filters, `first_day` and
    `end_day` (exclusive) the span of days; `versions` the figure versions it was computed at
    ("*" and its UTC months, e.g. "3.17"), `stamp` their sum (they only go up, so a larger sum
    is a later reading); `body` the piece as JSON, money as Decimal strings."""

    __tablename__ = "figure_piece"

    narrowing: Mapped[str] = mapped_column(String(160), primary_key=True)
    first_day: Mapped[date] = mapped_column(primary_key=True)
    end_day: Mapped[date] = mapped_column(primary_key=True)
    versions: Mapped[str] = mapped_column(String(60))
    stamp: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    made_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
