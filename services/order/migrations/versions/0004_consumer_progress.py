"""The inbox keeps, per consumer and source stream, the versions taken (nothing to purge, so
a replay of any age is a repeat) instead of a row per event.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from shared.schema import inbox_becomes_stream_progress, inbox_comes_back

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inbox_becomes_stream_progress()


def downgrade() -> None:
    inbox_comes_back()
