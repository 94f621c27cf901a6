"""DDL of the tables every service has (event store, outbox, inbox, dead letters, deadlines,
idempotency keys). Each service's first Alembic migration calls `create_platform_tables`;
later changes get migrations of their own, so stored history never changes under us."""

from __future__ import annotations

from alembic import op

PLATFORM_DDL = [
    """
    CREATE TABLE events (
        position bigserial PRIMARY KEY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        event_type text NOT NULL,
        schema_version integer NOT NULL,
        occurred_at timestamptz NOT NULL,
        order_id uuid,
        seller_id text,
        correlation_id text,
        causation_id text,
        payload jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
    )
    """,
    "CREATE INDEX events_tx_position_idx ON events (tx_id, position)",
    """
    CREATE TABLE outbox (
        position bigserial PRIMARY KEY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL,
        topic text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    )
    """,
    "CREATE INDEX outbox_unpublished_idx ON outbox (tx_id, position) WHERE published_at IS NULL",
    "CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL",
    """
    CREATE TABLE inbox (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
    "CREATE INDEX inbox_processed_idx ON inbox (processed_at)",
    """
    CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        consumer text NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        "offset" bigint NOT NULL,
        event_id uuid,
        key text,
        value text NOT NULL,
        error text NOT NULL,
        attempts integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retried_at timestamptz,
        resolved_at timestamptz
    )
    """,
    "CREATE INDEX dead_letters_open_idx ON dead_letters (consumer) WHERE resolved_at IS NULL",
    """
    CREATE TABLE deadlines (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        stream_id text NOT NULL,
        due_at timestamptz NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        fired_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        CONSTRAINT deadlines_once UNIQUE (kind, stream_id, due_at)
    )
    """,
    "CREATE INDEX deadlines_due_idx ON deadlines (due_at) WHERE fired_at IS NULL",
    """
    CREATE TABLE idempotency_keys (
        caller text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code integer,
        content_type text,
        body bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (caller, key)
    )
    """,
    "CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)",
]

PLATFORM_TABLES = ["idempotency_keys", "deadlines", "dead_letters", "inbox", "outbox", "events"]


def create_platform_tables() -> None:
    for statement in PLATFORM_DDL:
        op.execute(statement)


def drop_platform_tables() -> None:
    for table in PLATFORM_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")


SNAPSHOTS_DDL = """
    CREATE TABLE snapshots (
        stream_id text PRIMARY KEY,
        stream_version integer NOT NULL,
        codec text NOT NULL,
        state jsonb NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
    )
"""


def create_snapshots_table() -> None:
    """Snapshots of long streams' states (shared.aggregate.Snapshots), one per stream."""
    op.execute(SNAPSHOTS_DDL)


def drop_snapshots_table() -> None:
    op.execute("DROP TABLE IF EXISTS snapshots")


# The events table is the outbox: the relay follows it with the gap-safe reader and keeps its
# checkpoint (one row per service's relay) and the end offsets it last saw on the topic's
# partitions (a broker that holds fewer lost records). An existing outbox sets where
# the relay starts: just before the first event not yet published, else after the last event
# (publishing is at-least-once, so an event published twice is harmless; one skipped would be
# lost).
_RELAY_CHECKPOINTS = """
    CREATE TABLE relay_checkpoints (
        relay text PRIMARY KEY,
        tx_id xid8 NOT NULL,
        position bigint NOT NULL,
        topic_ends jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
    )
"""
_FIRST_CHECKPOINT = """
    INSERT INTO relay_checkpoints (relay, tx_id, position)
    SELECT '{relay}', e.tx_id, e.position FROM events AS e
    WHERE NOT EXISTS (
        SELECT 1 FROM outbox AS o JOIN events AS u ON u.event_id = o.event_id
        WHERE o.published_at IS NULL AND (u.tx_id, u.position) <= (e.tx_id, e.position)
    )
    ORDER BY e.tx_id DESC, e.position DESC
    LIMIT 1
"""


def events_become_the_outbox(relay: str) -> None:
    """The outbox table goes (the relay follows the events table); deadlines name their
    subject."""
    op.execute(_RELAY_CHECKPOINTS)
    op.execute(_FIRST_CHECKPOINT.format(relay=relay))
    op.execute("DROP TABLE outbox")
    op.execute("ALTER TABLE deadlines RENAME COLUMN stream_id TO subject_id")


def outbox_comes_back() -> None:
    """Down: an empty outbox (what was published stays published) and the old column name."""
    for statement in PLATFORM_DDL[2:5]:
        op.execute(statement)
    op.execute("DROP TABLE relay_checkpoints")
    op.execute("ALTER TABLE deadlines RENAME COLUMN subject_id TO stream_id")


# The inbox as a once-only record that no purge removes (shared.progress): per consumer and
# source stream, the versions taken. The per-event inbox goes (it was purged after the
# retention period, after which a replay would have been applied again).
_CONSUMER_PROGRESS = """
    CREATE TABLE consumer_progress (
        consumer text NOT NULL,
        stream_id text NOT NULL,
        watermark integer NOT NULL DEFAULT 0,
        ahead integer[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (consumer, stream_id)
    )
"""


def inbox_becomes_stream_progress() -> None:
    op.execute(_CONSUMER_PROGRESS)
    op.execute("DROP TABLE inbox")


def inbox_comes_back() -> None:
    for statement in PLATFORM_DDL[5:7]:
        op.execute(statement)
    op.execute("DROP TABLE consumer_progress")
