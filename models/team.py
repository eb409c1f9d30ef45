"""Teams, their headcount over time, and the company's growth stages."""

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    snapshots: Mapped[list["HeadcountSnapshot"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="HeadcountSnapshot.on_date"
    )

    def __str__(self) -> str:
        return self.name


class HeadcountSnapshot(Base):
    """A team's headcount as of a date; it holds until the team's next snapshot."""

    __tablename__ = "headcount_snapshot"
    __table_args__ = (
        UniqueConstraint("team_id", "on_date"),
        CheckConstraint("headcount >= 0", name="headcount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    on_date: Mapped[date]
    headcount: Mapped[int]

    team: Mapped[Team] = relationship(back_populates="snapshots")


class GrowthStage(Base):
    """A named band of company headcount, e.g. "Founding: up to 10 people"."""

    __tablename__ = "growth_stage"
    __table_args__ = (
        CheckConstraint("min_headcount >= 0", name="min_not_negative"),
        CheckConstraint(
            "max_headcount IS NULL OR max_headcount >= min_headcount", name="band_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    min_headcount: Mapped[int]
    max_headcount: Mapped[int | None]  # None: no upper bound
    description: Mapped[str] = mapped_column(Text, default="")

    def contains(self, headcount: int) -> bool:
        return self.min_headcount <= headcount and (
            self.max_headcount is None or headcount <= self.max_headcount
        )

    @property
    def band(self) -> str:
        if self.max_headcount is None:
            return f"{self.min_headcount}+"
        return f"{self.min_headcount}–{self.max_headcount}"

    def __str__(self) -> str:
        return self.name
