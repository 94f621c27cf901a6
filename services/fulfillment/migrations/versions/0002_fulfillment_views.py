"""The fulfillment service's own query tables. A combined package (orders of one buyer in
one parcel) has a row per order.

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
        CREATE TABLE warehouses (
            warehouse_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            country text NOT NULL,
            city text NOT NULL,
            handover text,  -- NULL until the pickup service says (then PICKUP/DROP_OFF)
            provider_code text,
            tracking_prefix text,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX warehouses_seller_idx ON warehouses (seller_id)")
    op.execute(
        """
        CREATE TABLE split_rules (
            seller_id text PRIMARY KEY,
            max_weight_g integer,
            max_items integer,
            ship_alone_skus jsonb NOT NULL DEFAULT '[]',
            version integer NOT NULL DEFAULT 1,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE fulfillment_orders (
            order_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            buyer_id text NOT NULL,
            status text NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX fulfillment_orders_waiting_idx ON fulfillment_orders (seller_id) "
        "WHERE status = 'AWAITING_STOCK'"
    )
    op.execute(
        """
        CREATE TABLE packages (
            package_id uuid NOT NULL,
            order_id uuid NOT NULL,
            seller_id text NOT NULL,
            buyer_id text NOT NULL,
            warehouse_id uuid NOT NULL,
            status text NOT NULL,
            tracking_number text,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (package_id, order_id)
        )
        """
    )
    op.execute("CREATE INDEX packages_order_idx ON packages (order_id)")
    op.execute("CREATE INDEX packages_tracking_idx ON packages (tracking_number)")


def downgrade() -> None:
    for table in ("packages", "fulfillment_orders", "split_rules", "warehouses"):
        op.execute(f"DROP TABLE {table}")
