"""search: the search index (documents of stemmed words, FTS5 on SQLite, GIN on PostgreSQL)

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-28 23:55:00.000000

The backfill runs the app's own index builder (postmortems.search.index.rebuild), which reads
the tables through lightweight Core tables, not the app's models: the index has to hold the
same stems the app writes, and `flask search reindex` makes it again from scratch at any time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from postmortems.search import index, schema

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'search_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_document')),
        sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_search_document_kind')),
    )
    op.create_index(
        'ix_search_document_incident_id', 'search_document', ['incident_id'], unique=False
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_incident_affected_system'), ['affected_system'], unique=False
        )
    conn = op.get_bind()
    schema.create(conn)
    index.rebuild(conn)


def downgrade() -> None:
    schema.drop(op.get_bind())
    op.drop_index('ix_search_document_incident_id', table_name='search_document')
    op.drop_table('search_document')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_affected_system'))
