"""Collection runs: the day's tasks and the parcels they collect.

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
        CREATE TABLE tasks (
            task_id uuid PRIMARY KEY,
            provider_code text NOT NULL,
            warehouse_id uuid NOT NULL,
            seller_id text NOT NULL,
            run_date date NOT NULL,
            driver_id text,
            driver_name text,
            driver_phone text,
            driver_overdue boolean NOT NULL DEFAULT false
        )
        """
    )
    op.execute("CREATE INDEX tasks_provider_day_idx ON tasks (provider_code, run_date)")
    op.execute(
        """
        CREATE TABLE parcels (
            package_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            task_id uuid,
            tracking_number text NOT NULL,
            status text NOT NULL,
            overdue boolean NOT NULL DEFAULT false
        )
        """
    )
    op.execute("CREATE INDEX parcels_task_idx ON parcels (task_id)")


def downgrade() -> None:
    op.execute("DROP TABLE parcels")
    op.execute("DROP TABLE tasks")
