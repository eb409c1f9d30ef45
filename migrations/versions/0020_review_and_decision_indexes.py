"""review comments found by who wrote them: an index on review_comment (user_id, at); and
action items by the day a won't-do was decided: an index on action_item (decided_on)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11 10:00:00

A reviewer's home page lists the postmortems they sent back that still wait for their author;
without the index that read every review comment on every visit. The quarterly review counts
the items closed in its quarter through the completion and decision days' indexes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_review_comment_user_id_at", "review_comment", ["user_id", "at"])
    op.create_index("ix_action_item_decided_on", "action_item", ["decided_on"])


def downgrade() -> None:
    op.drop_index("ix_action_item_decided_on", table_name="action_item")
    op.drop_index("ix_review_comment_user_id_at", table_name="review_comment")
