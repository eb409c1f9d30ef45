"""versions on incident parts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 01:49:23.366373
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing parts start at version 1, like new ones.
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('impact_estimate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('incident_factor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))



def downgrade() -> None:
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('incident_factor', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('impact_estimate', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_column('version')

