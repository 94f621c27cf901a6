"""The listings' review queue (issue 18): one row per listing that went to an operator's
review, with its review status, for the operators' list of listings pending review. Written
in the transaction of the listing's events; no listing went to review before this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE listing_reviews (
            seller_id text NOT NULL,
            sku text NOT NULL,
            listing_key uuid NOT NULL UNIQUE,
            market text,
            status text NOT NULL,
            submitted_at timestamptz NOT NULL,
            doc jsonb NOT NULL,
            PRIMARY KEY (seller_id, sku)
        )
        """
    )
    op.execute(
        "CREATE INDEX listing_reviews_queue_idx "
        "ON listing_reviews (status, submitted_at, listing_key)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE listing_reviews")
