"""an external reference's start may be unknown: incident.started_at nullable, our own incidents
still need one (a CHECK)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 03:10:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.alter_column('started_at', nullable=True)
        batch_op.create_check_constraint(
            'started_known', 'started_at IS NOT NULL OR source_collection IS NOT NULL'
        )


def downgrade() -> None:
    # Refused while an external reference has no start: there is no start to give it.
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_incident_started_known'), type_='check')
        batch_op.alter_column('started_at', nullable=False)
