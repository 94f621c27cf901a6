"""Sellers' webhooks: the endpoints (with their signing secret), the deliveries (the log a
seller reads and replays from), each delivery's attempts, and which seller an order is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhook_endpoints (
            webhook_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            url text NOT NULL,
            kinds text[] NOT NULL,
            description text,
            secret text NOT NULL,
            status text NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED', 'DELETED')),
            disabled_reason text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            changed_at timestamptz NOT NULL,
            version integer NOT NULL DEFAULT 1,
            events_appended integer NOT NULL DEFAULT 0
        )
        """
    )
    op.execute(
        "CREATE INDEX webhook_endpoints_seller_idx ON webhook_endpoints (seller_id, created_at)"
    )
    op.execute(
        """
        CREATE TABLE webhook_deliveries (
            delivery_id uuid PRIMARY KEY,
            seq bigserial NOT NULL UNIQUE,
            webhook_id uuid NOT NULL REFERENCES webhook_endpoints (webhook_id),
            event_id uuid NOT NULL,
            event_type text NOT NULL,
            kind text NOT NULL,
            order_id uuid,
            body text NOT NULL,
            status text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL,
            first_attempt_at timestamptz,
            lease_until timestamptz,
            last_status_code integer,
            last_error text,
            replay_of uuid,
            created_at timestamptz NOT NULL,
            delivered_at timestamptz
        )
        """
    )
    # An event is delivered once to an endpoint (a redelivered event adds nothing); replays
    # are deliveries of their own.
    op.execute(
        "CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, event_id) "
        "WHERE replay_of IS NULL"
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) "
        "WHERE status = 'PENDING'"
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, order_id, seq) "
        "WHERE status = 'PENDING'"
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at, "
        "delivery_id)"
    )
    op.execute(
        """
        CREATE TABLE webhook_attempts (
            delivery_id uuid NOT NULL REFERENCES webhook_deliveries (delivery_id),
            attempt integer NOT NULL,
            at timestamptz NOT NULL,
            status_code integer,
            error text,
            duration_ms integer NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webhook_order_sellers (
            order_id uuid PRIMARY KEY,
            seller_id text NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE webhook_order_sellers")
    op.execute("DROP TABLE webhook_attempts")
    op.execute("DROP TABLE webhook_deliveries")
    op.execute("DROP TABLE webhook_endpoints")
