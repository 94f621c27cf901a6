"""Platform tracking numbers come from a sequence.

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
    op.execute("CREATE SEQUENCE tracking_number_seq START 1000")


def downgrade() -> None:
    op.execute("DROP SEQUENCE tracking_number_seq")
