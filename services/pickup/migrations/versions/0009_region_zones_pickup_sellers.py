"""Issue 17: each provider's time zones by coverage region (a provider configured before
names none), and whether a warehouse is collected by pickup now (its current subscription
ACTIVE): only those sellers' orders are extended by a provider switch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE providers ADD COLUMN zones jsonb NOT NULL DEFAULT '[]'::jsonb")
    op.execute("ALTER TABLE warehouses ADD COLUMN pickup_active boolean NOT NULL DEFAULT false")
    op.execute(
        """
        UPDATE warehouses w SET pickup_active = true
        WHERE (SELECT s.status FROM subscriptions s WHERE s.warehouse_id = w.warehouse_id
               ORDER BY s.updated_at DESC LIMIT 1) = 'ACTIVE'
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE warehouses DROP COLUMN pickup_active")
    op.execute("ALTER TABLE providers DROP COLUMN zones")
