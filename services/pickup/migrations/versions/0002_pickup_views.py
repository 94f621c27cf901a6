"""The pickup service's own query tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE providers (
            provider_code text PRIMARY KEY,
            name text NOT NULL,
            tracking_prefix text NOT NULL,
            coverage jsonb NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE subscriptions (
            subscription_id uuid PRIMARY KEY,
            warehouse_id uuid NOT NULL,
            seller_id text NOT NULL,
            provider_code text,
            status text NOT NULL,
            review_due timestamptz,
            review_overdue boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX subscriptions_warehouse_idx ON subscriptions (warehouse_id)")
    op.execute(
        "CREATE INDEX subscriptions_overdue_idx ON subscriptions (review_due) "
        "WHERE status = 'PENDING_REVIEW'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE subscriptions")
    op.execute("DROP TABLE providers")
