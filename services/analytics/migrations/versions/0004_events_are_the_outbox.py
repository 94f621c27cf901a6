"""The events table is the outbox: a relay checkpoint per topic instead of an outbox copy of
every event; a deadline names its subject (`subject_id`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from shared.schema import events_become_the_outbox, outbox_comes_back

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    events_become_the_outbox("analytics")


def downgrade() -> None:
    outbox_comes_back()
