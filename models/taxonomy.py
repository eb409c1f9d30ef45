"""The fixed cause categories and the contributing factors inside them."""

import enum

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, LabelledEnum


class CauseCategory(LabelledEnum):
    PERSONAL = "PERSONAL"
    TECH_DEBT_CULTURE = "TECH_DEBT_CULTURE"
    PROCESS_COMMUNICATION = "PROCESS_COMMUNICATION"
    CHANCE = "CHANCE"

    _labels = enum.nonmember(
        {
            "PERSONAL": "Personal factors",
            "TECH_DEBT_CULTURE": "Tech debt and engineering culture",
            "PROCESS_COMMUNICATION": "Process and communication",
            "CHANCE": "Chance",
        }
    )


class ContributingFactor(Base):
    """A named factor inside one cause category (seeded by a migration; admins add more)."""

    __tablename__ = "contributing_factor"
    __table_args__ = (UniqueConstraint("category", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[CauseCategory]
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return f"{self.category.label}: {self.name}"
