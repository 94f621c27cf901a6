"""Email notifications (issue 18): the pending and sent mails, one per (event, recipient),
and where the recipients get mail (from seller profiles and orders' checkouts).

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-10
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mail_sellers (
            seller_id text PRIMARY KEY,
            email text,
            language text,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE mail_orders (
            order_id uuid PRIMARY KEY,
            seller_id text NOT NULL,
            buyer_id text NOT NULL,
            buyer_email text,
            buyer_language text
        )
        """
    )
    op.execute(
        """
        CREATE TABLE mail_outbox (
            id bigserial PRIMARY KEY,
            event_id uuid NOT NULL,
            recipient text NOT NULL CHECK (recipient IN ('seller', 'buyer')),
            order_id uuid,
            seller_id text,
            template text NOT NULL,
            params jsonb NOT NULL,
            status text NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'SENT', 'NO_ADDRESS', 'FAILED')),
            created_at timestamptz NOT NULL DEFAULT now(),
            due_at timestamptz NOT NULL DEFAULT now(),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            to_address text,
            language text,
            subject text,
            message_id text,
            sent_at timestamptz,
            CONSTRAINT mail_outbox_once UNIQUE (event_id, recipient)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX mail_outbox_due ON mail_outbox (due_at, id) WHERE status = 'PENDING'
        """
    )


def downgrade() -> None:
    for table in ("mail_outbox", "mail_orders", "mail_sellers"):
        op.execute(f"DROP TABLE {table}")
