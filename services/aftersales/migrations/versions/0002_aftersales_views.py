"""The aftersales service's query tables: requests, reviews, complaints, and the shipped
packages complaints may name (from fulfillment's events).

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
        CREATE TABLE requests (
            request_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            buyer_id text NOT NULL,
            seller_id text NOT NULL,
            type text NOT NULL,
            status text NOT NULL,
            requested_at timestamptz NOT NULL,
            doc jsonb NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX requests_order_idx ON requests (order_id, requested_at)")
    op.execute("CREATE INDEX requests_buyer_idx ON requests (buyer_id, requested_at)")
    op.execute("CREATE INDEX requests_seller_idx ON requests (seller_id, requested_at)")
    op.execute(
        """
        CREATE TABLE reviews (
            order_id uuid PRIMARY KEY,
            buyer_id text NOT NULL,
            seller_id text NOT NULL,
            rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
            text text,
            posted_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX reviews_seller_idx ON reviews (seller_id, posted_at)")
    op.execute(
        """
        CREATE TABLE complaints (
            complaint_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            package_id uuid NOT NULL,
            carrier text NOT NULL,
            type text NOT NULL,
            status text NOT NULL,
            filed_at timestamptz NOT NULL,
            doc jsonb NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX complaints_seller_idx ON complaints (seller_id, filed_at)")
    op.execute(
        """
        CREATE TABLE shipments (
            package_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            seller_id text NOT NULL,
            carrier text NOT NULL,
            tracking_number text NOT NULL
        )
        """
    )


def downgrade() -> None:
    for table in ("shipments", "complaints", "reviews", "requests"):
        op.execute(f"DROP TABLE {table}")
