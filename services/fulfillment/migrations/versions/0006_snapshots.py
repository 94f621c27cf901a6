"""Snapshots of long streams' states (the platform's `snapshots` table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from shared.schema import create_snapshots_table, drop_snapshots_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_snapshots_table()


def downgrade() -> None:
    drop_snapshots_table()
