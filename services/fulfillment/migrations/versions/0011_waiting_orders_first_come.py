"""Orders waiting for stock get a restock first come, first served (issue 18): the time each
order was placed, by which `waiting_orders` lists them (orders recorded before have none and
come first: they have waited longest).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE fulfillment_orders ADD COLUMN placed_at timestamptz")
    op.execute("DROP INDEX fulfillment_orders_waiting_idx")
    op.execute(
        "CREATE INDEX fulfillment_orders_waiting_idx ON fulfillment_orders "
        "(seller_id, placed_at NULLS FIRST, order_id) WHERE status = 'AWAITING_STOCK'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX fulfillment_orders_waiting_idx")
    op.execute(
        "CREATE INDEX fulfillment_orders_waiting_idx ON fulfillment_orders (seller_id) "
        "WHERE status = 'AWAITING_STOCK'"
    )
    op.execute("ALTER TABLE fulfillment_orders DROP COLUMN placed_at")
