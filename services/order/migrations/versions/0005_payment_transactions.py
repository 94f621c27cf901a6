"""A payment's transaction id pays one order: the first order paid with it claims it (a
unique key, so two concurrent payments cannot both take it). Orders paid before this
revision claim their transaction ids in payment order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE payment_transactions (
            transaction_id text PRIMARY KEY,
            order_id uuid NOT NULL,
            claimed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        INSERT INTO payment_transactions (transaction_id, order_id, claimed_at)
        SELECT DISTINCT ON (payload->>'transaction_id')
               payload->>'transaction_id', (payload->>'order_id')::uuid, recorded_at
        FROM events
        WHERE event_type = 'OrderPaid' AND payload->>'transaction_id' IS NOT NULL
        ORDER BY payload->>'transaction_id', position
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE payment_transactions")
