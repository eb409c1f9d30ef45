"""report month pieces stored for every worker and instance: figure_piece

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figure_piece",
        sa.Column("narrowing", sa.String(length=160), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("versions", sa.String(length=60), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("made_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("narrowing", "first_day", "end_day", name=op.f("pk_figure_piece")),
    )
    op.create_index(op.f("ix_figure_piece_made_at"), "figure_piece", ["made_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_figure_piece_made_at"), table_name="figure_piece")
    op.drop_table("figure_piece")
