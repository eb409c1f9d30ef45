"""A counter of committed changes: cached figures are good while it stays the same."""

from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DataVersion(Base):
    """One row (id 1) whose number goes up with every committed change made through the
    services; a page may keep a figure it computed until the number moves."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(default=0)
