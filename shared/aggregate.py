"""The one way every service runs a command against an event-sourced aggregate.

An aggregate is a name (the prefix of its streams), an initial state and a pair of pure
functions, `decide(state, command) -> events` and `evolve(state, event) -> state`. `execute`
loads the stream, folds it, decides the command and appends with optimistic concurrency; on a
conflict it reloads and decides again a bounded number of times, then gives up with
ConcurrencyError (a 409 at the edge). A command carries the time it happens at (`now`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import Database, dumps
from shared.events import Envelope, EventPayload
from shared.eventstore import ConcurrencyError, EventStore

S = TypeVar("S")


class Command(Protocol):
    """What every command has: the time it happens at."""

    @property
    def now(self) -> datetime: ...


class DomainError(Exception):
    """A command the rules refuse. `status` is the HTTP status at the edge."""

    status = 409
    title = "Conflict with the current state"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra  # more members of the problem response (e.g. `errors`)


class InvalidCommand(DomainError):
    status = 422
    title = "Invalid command"


class NotFound(DomainError):
    status = 404
    title = "Not found"


def _no_keys(_: object) -> tuple[uuid.UUID | None, str | None]:
    return None, None


@dataclass(frozen=True)
class Snapshots(Generic[S]):
    """How a long stream's state is kept, so a load folds only the events after it: a
    snapshot is taken in the transaction of the append that crosses each multiple of
    `every` events. `codec` names the state's encoding: change it when the state's shape
    changes, and snapshots of the old one are ignored (the stream is folded from its start
    and snapshotted again)."""

    codec: str
    encode: Callable[[S], dict[str, Any]]
    decode: Callable[[dict[str, Any]], S]
    every: int = 100


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """`name` is the first segment of the aggregate's stream ids (`stream(...)` makes them).
    `keys` gives the envelope's `order_id` and `seller_id` from a state. `fold_all`, where
    given, folds many events at once to the same state as `evolve` one by one (for long
    streams whose state is a large map); `snapshots`, where given, keeps such a stream's
    state every so many events."""

    name: str
    initial: S
    decide: Callable[[S, Any], Sequence[EventPayload]]
    evolve: Callable[[S, EventPayload], S]
    keys: Callable[[S], tuple[uuid.UUID | None, str | None]] = _no_keys
    fold_all: Callable[[Iterable[EventPayload], S], S] | None = None
    snapshots: Snapshots[S] | None = None

    def stream(self, *ids: object) -> str:
        """The id of one of this aggregate's streams: `order/<order id>`, `stock/<seller>`."""
        return "/".join([self.name, *(str(i) for i in ids)])

    def fold(self, events: Iterable[EventPayload], state: S | None = None) -> S:
        current = self.initial if state is None else state
        if self.fold_all is not None:
            return self.fold_all(events, current)
        for event in events:
            current = self.evolve(current, event)
        return current


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S
    version: int
    events: list[Envelope]


AfterAppend = Callable[[AsyncConnection, S, list[Envelope]], Awaitable[None]]


@asynccontextmanager
async def _attempt(db: Database, within: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
    if within is None:
        async with db.transaction() as conn:
            yield conn
    else:
        async with within.begin_nested():
            yield within


async def load(
    conn: AsyncConnection, store: EventStore, aggregate: Aggregate[S], stream_id: str
) -> tuple[S, int]:
    state, version = aggregate.initial, 0
    if aggregate.snapshots is not None:
        snapshot = await store.load_snapshot(conn, stream_id, aggregate.snapshots.codec)
        if snapshot is not None:
            version, encoded = snapshot
            state = aggregate.snapshots.decode(encoded)
    envelopes = await store.load(conn, stream_id, after=version)
    return aggregate.fold((e.decode() for e in envelopes), state), version + len(envelopes)


async def _snapshot(
    conn: AsyncConnection,
    store: EventStore,
    aggregate: Aggregate[S],
    stream_id: str,
    version: int,
    new_version: int,
    state: S,
) -> None:
    snapshots = aggregate.snapshots
    if snapshots is None or version // snapshots.every == new_version // snapshots.every:
        return
    encoded = dumps(snapshots.encode(state))
    await store.save_snapshot(conn, stream_id, new_version, snapshots.codec, encoded)


async def execute(
    db: Database,
    store: EventStore,
    aggregate: Aggregate[S],
    stream_id: str,
    command: Command,
    *,
    guard: Callable[[S], None] | None = None,
    after_append: AfterAppend[S] | None = None,
    max_attempts: int = 5,
    within: AsyncConnection | None = None,
    order_id: uuid.UUID | None = None,
) -> Outcome[S]:
    """Decide `command` and append in one transaction; `after_append` runs in it too
    (deadlines, the service's own query rows). `guard` sees the state first and raises to
    refuse (ownership checks at the edge). `within` runs each attempt in a savepoint of a
    caller's transaction instead (a consumer's handler, together with its inbox row).
    `order_id` names the order the events concern where the aggregate is not an order's."""
    for attempt in range(1, max_attempts + 1):
        try:
            async with _attempt(db, within) as conn:
                state, version = await load(conn, store, aggregate, stream_id)
                if guard is not None:
                    guard(state)
                new_events = list(aggregate.decide(state, command))
                new_state = aggregate.fold(new_events, state)
                state_order_id, seller_id = aggregate.keys(new_state)
                envelopes = await store.append(
                    conn,
                    stream_id,
                    version,
                    new_events,
                    occurred_at=command.now,
                    order_id=order_id or state_order_id,
                    seller_id=seller_id,
                )
                new_version = version + len(new_events)
                await _snapshot(conn, store, aggregate, stream_id, version, new_version, new_state)
                if after_append is not None and envelopes:
                    await after_append(conn, new_state, envelopes)
                return Outcome(new_state, new_version, envelopes)
        except ConcurrencyError:
            if attempt == max_attempts:
                raise
    raise AssertionError("unreachable")
