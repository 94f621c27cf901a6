"""Dispatch-deadline extensions, kept even when they arrive before the order does.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE deadline_extensions (
            event_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            hours integer NOT NULL,
            reason text NOT NULL,
            applied_at timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX deadline_extensions_pending_idx ON deadline_extensions (order_id) "
        "WHERE applied_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE deadline_extensions")
