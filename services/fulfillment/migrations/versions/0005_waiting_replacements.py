"""Exchanges whose replacement goods wait for stock.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE waiting_replacements (
            request_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            seller_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX waiting_replacements_seller_idx ON waiting_replacements (seller_id)")


def downgrade() -> None:
    op.execute("DROP TABLE waiting_replacements")
