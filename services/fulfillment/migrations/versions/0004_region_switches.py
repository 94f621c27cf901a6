"""Scheduled pickup-provider switches, so a label printed after a cutover carries the new
provider even before the pickup service's follow-up events arrive.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE region_switches (
            switch_id uuid PRIMARY KEY,
            country text NOT NULL,
            city_key text NOT NULL,
            provider_code text NOT NULL,
            tracking_prefix text NOT NULL,
            cutover_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX region_switches_region_idx ON region_switches (country, city_key)")


def downgrade() -> None:
    op.execute("DROP TABLE region_switches")
