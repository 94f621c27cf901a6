"""The receiving hub of each pickup provider's coverage region, as the pickup service
configured it (issue 16): a first-mile label names it.

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
    op.execute(
        """
        CREATE TABLE region_hubs (
            provider_code text NOT NULL,
            country text NOT NULL,
            city_key text NOT NULL,
            hub jsonb NOT NULL,
            PRIMARY KEY (provider_code, country, city_key)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE region_hubs")
