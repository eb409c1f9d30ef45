"""incident key counter

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:20:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = re.compile(r"^(PM-\d{4})-(\d+)$")


def upgrade() -> None:
    counter = op.create_table(
        'incident_key_counter',
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', name=op.f('pk_incident_key_counter')),
    )
    # Start each prefix's counter at the highest key already given out.
    incident = sa.table('incident', sa.column('key', sa.String))
    last: dict[str, int] = {}
    for (key,) in op.get_bind().execute(sa.select(incident.c.key)):
        match = KEY.match(key or "")
        if match:
            prefix, number = match.group(1), int(match.group(2))
            last[prefix] = max(last.get(prefix, 0), number)
    if last:
        op.bulk_insert(counter, [{'prefix': p, 'last_number': n} for p, n in sorted(last.items())])


def downgrade() -> None:
    op.drop_table('incident_key_counter')
