"""The service's database: one SQLAlchemy async engine (asyncpg underneath)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.settings import to_libpq_url, to_sqlalchemy_url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = to_sqlalchemy_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
        )

    @property
    def libpq_url(self) -> str:
        """The same database for a plain asyncpg connection (LISTEN, advisory locks)."""
        return to_libpq_url(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
