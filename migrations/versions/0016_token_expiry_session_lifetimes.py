"""token expiry and revocation reasons, session last-seen times, API request counts

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 04:00:00

Tokens made before expiry existed get one: this migration's date plus the default lifetime
(90 days), so that they keep working for a while and then end like every other token, instead
of living for ever. A session's "last seen" starts at its sign-in time.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# API_TOKEN_DEFAULT_DAYS when this migration was written; the app's settings are not read here.
EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    op.create_table('api_request_count',
    sa.Column('window_start', models.base.UTCDateTime(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('window_start', 'key', name=op.f('pk_api_request_count'))
    )

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=80), nullable=True))
    api_token = sa.table('api_token', sa.column('expires_at', sa.DateTime()))
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=EXISTING_TOKEN_DAYS)
    op.execute(api_token.update().values(expires_at=expiry))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=models.base.UTCDateTime(), nullable=False)

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', models.base.UTCDateTime(), nullable=True))
    user_session = sa.table(
        'user_session', sa.column('created_at', sa.DateTime()), sa.column('last_seen_at', sa.DateTime())
    )
    op.execute(user_session.update().values(last_seen_at=user_session.c.created_at))
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=models.base.UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('expires_at')

    op.drop_table('api_request_count')
