"""figure versions per month; the external references' unique index made partial; action
items indexed by completion day

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-29 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OURS_LEFT_OUT = sa.text('source_collection IS NOT NULL')


def upgrade() -> None:
    op.create_table(
        'figure_version',
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_figure_version')),
    )
    # The planners walked the whole unique index to find our own incidents (no collection)
    # for every report figure; a partial index holds external references only.
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint('uq_incident_source_collection', type_='unique')
    op.create_index(
        'uq_incident_source',
        'incident',
        ['source_collection', 'external_id'],
        unique=True,
        sqlite_where=OURS_LEFT_OUT,
        postgresql_where=OURS_LEFT_OUT,
    )
    # The quarterly review counts the action items closed in its quarter.
    op.create_index('ix_action_item_completed_on', 'action_item', ['completed_on'])


def downgrade() -> None:
    op.drop_index('ix_action_item_completed_on', table_name='action_item')
    op.drop_index('uq_incident_source', table_name='incident')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_incident_source_collection', ['source_collection', 'external_id']
        )
    op.drop_table('figure_version')
