"""Issue 17: a provider's hotline and service hours; subscriptions a provider has yet to
review (new requests and those a switch moved to it); runs handed over at a cutover.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE providers ADD COLUMN hotline text, ADD COLUMN service_hours jsonb")
    op.execute("ALTER TABLE subscriptions ADD COLUMN review_pending boolean NOT NULL DEFAULT false")
    op.execute("UPDATE subscriptions SET review_pending = (status = 'PENDING_REVIEW')")
    op.execute("ALTER TABLE tasks ADD COLUMN handed_over boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE tasks DROP COLUMN handed_over")
    op.execute("ALTER TABLE subscriptions DROP COLUMN review_pending")
    op.execute("ALTER TABLE providers DROP COLUMN hotline, DROP COLUMN service_hours")
