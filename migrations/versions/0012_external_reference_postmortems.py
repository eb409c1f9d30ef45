"""external reference postmortems: other organisations' incidents from public collections

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 23:59:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


REPORT_COLUMNS = ['started_at', 'exclude_from_metrics', 'is_near_miss', 'team_id', 'severity', 'status', 'detected_at', 'mitigated_at', 'resolved_at', 'recurrence_of_id']


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_collection', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('source_organisation', sa.String(length=200), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('source_url', sa.String(length=1000), nullable=False, server_default='')
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_incident_source_collection'), ['source_collection', 'external_id']
        )
    # The defaults were only there to fill the existing rows; the models give their own.
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.alter_column('source_organisation', server_default=None)
        batch_op.alter_column('source_url', server_default=None)
    # The reports count only our own incidents: their covering index carries the column too.
    op.drop_index('ix_incident_report_figures', table_name='incident')
    op.create_index('ix_incident_report_figures', 'incident', REPORT_COLUMNS + ['source_collection'])


def downgrade() -> None:
    op.drop_index('ix_incident_report_figures', table_name='incident')
    op.create_index('ix_incident_report_figures', 'incident', REPORT_COLUMNS)
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_incident_source_collection'), type_='unique')
        batch_op.drop_column('source_url')
        batch_op.drop_column('source_organisation')
        batch_op.drop_column('external_id')
        batch_op.drop_column('source_collection')
