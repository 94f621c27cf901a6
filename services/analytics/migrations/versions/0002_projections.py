"""The analytics projections: every event received (the projections' own log), the order
views and the facts seller metrics are counted from, by generation (a rebuild fills a new
generation beside the active one, then switches), and progress per topic.

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
        CREATE TABLE received_events (
            event_id uuid PRIMARY KEY,
            topic text NOT NULL,
            order_id uuid,
            stream_id text NOT NULL,
            stream_version integer NOT NULL,
            event_type text NOT NULL,
            occurred_at timestamptz NOT NULL,
            envelope text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX received_events_order_idx ON received_events (order_id)")
    op.execute(
        """
        CREATE TABLE generations (
            generation integer PRIMARY KEY,
            status text NOT NULL CHECK (status IN ('BUILDING', 'ACTIVE', 'RETIRED', 'FAILED')),
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            replayed bigint NOT NULL DEFAULT 0,
            digest text,
            error text
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX generations_one_active ON generations (status) WHERE status = 'ACTIVE'"
    )
    op.execute(
        "CREATE UNIQUE INDEX generations_one_building ON generations (status) "
        "WHERE status = 'BUILDING'"
    )
    op.execute(
        "INSERT INTO generations (generation, status, finished_at) VALUES (1, 'ACTIVE', now())"
    )
    op.execute(
        """
        CREATE TABLE order_views (
            generation integer NOT NULL,
            order_id uuid NOT NULL,
            seller_id text,
            buyer_id text,
            status text,
            created_at timestamptz,
            dispatch_deadline timestamptz,
            pickup_overdue boolean NOT NULL DEFAULT false,
            open_cases integer NOT NULL DEFAULT 0,
            doc jsonb NOT NULL,
            PRIMARY KEY (generation, order_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX order_views_seller_idx ON order_views (generation, seller_id, created_at, "
        "order_id)"
    )
    op.execute(
        """
        CREATE TABLE order_facts (
            generation integer NOT NULL,
            order_id uuid NOT NULL,
            seller_id text NOT NULL,
            first_at timestamptz,
            last_at timestamptz,
            core jsonb NOT NULL,
            PRIMARY KEY (generation, order_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX order_facts_seller_idx ON order_facts (generation, seller_id, last_at)"
    )
    op.execute(
        """
        CREATE TABLE projection_progress (
            topic text PRIMARY KEY,
            events_applied bigint NOT NULL DEFAULT 0,
            last_occurred_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    for table in ("projection_progress", "order_facts", "order_views", "generations"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TABLE received_events")
