"""A carrier's tracking number names one parcel: the first package shipped with it claims it
(a unique key, so two concurrent shipments cannot both take it), and a carrier's report finds
the parcel through its claim. Packages shipped before this revision claim their numbers in
shipping order (a later duplicate keeps no claim: its carrier's reports reach the first).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE tracking_claims (
            carrier text NOT NULL,
            tracking_number text NOT NULL,
            package_id uuid NOT NULL,
            claimed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (carrier, tracking_number)
        )
        """
    )
    op.execute(
        """
        INSERT INTO tracking_claims (carrier, tracking_number, package_id, claimed_at)
        SELECT DISTINCT ON (payload->>'carrier', payload->>'tracking_number')
               payload->>'carrier', payload->>'tracking_number',
               (payload->>'package_id')::uuid, recorded_at
        FROM events
        WHERE event_type = 'ReadyToShip'
          AND payload->>'carrier' IS NOT NULL AND payload->>'tracking_number' IS NOT NULL
        ORDER BY payload->>'carrier', payload->>'tracking_number', position
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE tracking_claims")
