"""A counter of committed changes: cached figures are good while it stays the same."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


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
