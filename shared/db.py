"""The service's database: one SQLAlchemy async engine (asyncpg underneath)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.settings import to_libpq_url, to_sqlalchemy_url

_AMBIENT: ContextVar[tuple[Database, AsyncConnection] | None] = ContextVar(
    "unit_of_work", default=None
)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = to_sqlalchemy_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=1800,
            hide_parameters=True,  # errors (and so logs) never carry the bound values
        )
        # Reads outside a unit of work run statement by statement, without BEGIN and
        # ROLLBACK around them: a third of the round trips of a request that only reads.
        self._reads: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def libpq_url(self) -> str:
        """The same database for a plain asyncpg connection (LISTEN, advisory locks)."""
        return to_libpq_url(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction; inside a `unit_of_work`, a savepoint of its transaction."""
        ambient = self._ambient()
        if ambient is not None:
            async with ambient.begin_nested():
                yield ambient
            return
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads, each statement on its own (autocommit: what needs
        several statements to agree, or writes, takes a `transaction`); inside a
        `unit_of_work`, its connection (so a read sees what the unit wrote)."""
        ambient = self._ambient()
        if ambient is not None:
            yield ambient
            return
        async with self._reads.connect() as conn:
            yield conn

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that every `transaction()` and `connect()` of this database joins
        while it lasts, in this task (and tasks it starts: start a background task with a
        fresh context). It commits when the block ends and rolls back if it raises: the
        Idempotency-Key middleware stores a request's response in the same transaction as the
        request's effects, so a crash between the two cannot leave one without the other."""
        async with self.engine.begin() as conn:
            token = _AMBIENT.set((self, conn))
            try:
                yield conn
            finally:
                _AMBIENT.reset(token)

    def _ambient(self) -> AsyncConnection | None:
        ambient = _AMBIENT.get()
        if ambient is None or ambient[0] is not self:
            return None
        return ambient[1]

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


async def driver_connection(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under `conn`, inside `conn`'s transaction if it has one.

    For the hot statements (the event store's append and load) that DESIGN.md allows on
    asyncpg directly: one prepared statement, no SQLAlchemy layers. SQLAlchemy's asyncpg adapter
    begins its transaction lazily, at its first statement, so it is begun here if it has not
    been yet: a statement on the driver before that would run outside the caller's transaction.
    """
    fairy = await conn.get_raw_connection()
    adapter: Any = fairy.dbapi_connection
    if conn.in_transaction() and adapter._transaction is None:
        await adapter._start_transaction()
    raw: asyncpg.Connection = fairy.driver_connection
    return raw


_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, no socket file; TimeoutError (a connect's) too
    asyncpg.ConnectionDoesNotExistError,  # closed in the middle of a statement
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa_exc.OperationalError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached, not that the work failed in it:
    the same work, unchanged, can succeed once the database answers again.

    SQLAlchemy wraps the driver's error, which may wrap an OSError, so the causes are looked
    at too; a connection SQLAlchemy invalidated (it found it closed) is an outage. Its
    InterfaceError is not one by itself: asyncpg raises that for bad input as well (e.g.
    more than 32767 arguments), which fails every time.
    """
    cause: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; this bounds a cyclic one
        if cause is None:
            return False
        if isinstance(cause, _OUTAGES):
            return True
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        cause = cause.__cause__
    return False


def is_bad_value(exc: BaseException) -> bool:
    """Whether the database refused a value the request carried (SQLSTATE class 22: out of
    range, a character it cannot store, ...): the request's fault, not the service's."""
    cause: BaseException | None = exc
    for _ in range(10):
        if cause is None:
            return False
        if isinstance(cause, asyncpg.DataError | sa_exc.DataError):
            return True
        orig = cause.orig if isinstance(cause, sa_exc.DBAPIError) else None
        cause = cause.__cause__ or (orig if isinstance(orig, BaseException) else None)
    return False


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
