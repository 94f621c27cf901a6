"""Provider switches: the warehouses and recent orders of each region, and who serves it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE warehouses (
            warehouse_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            country text NOT NULL,
            city_key text NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX warehouses_region_idx ON warehouses (country, city_key)")
    op.execute("CREATE INDEX warehouses_seller_idx ON warehouses (seller_id)")
    op.execute(
        """
        CREATE TABLE recent_orders (
            order_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX recent_orders_seller_idx ON recent_orders (seller_id, created_at)")
    op.execute(
        """
        CREATE TABLE switches (
            switch_id uuid PRIMARY KEY,
            country text NOT NULL,
            city_key text NOT NULL,
            to_provider text NOT NULL,
            tracking_prefix text NOT NULL,
            cutover_at timestamptz NOT NULL,
            applied_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX switches_region_idx ON switches (country, city_key)")


def downgrade() -> None:
    for table in ("switches", "recent_orders", "warehouses"):
        op.execute(f"DROP TABLE {table}")
