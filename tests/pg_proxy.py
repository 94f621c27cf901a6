"""A TCP proxy in front of the test PostgreSQL, to take the database out of reach."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.embedded import free_port


class PgProxy:
    """A TCP port in front of the PostgreSQL server, to take the database out of reach:
    `cut` closes the listener and resets every connection through it; `restore` listens
    again on the same port."""

    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        self._host = dict(parse_qsl(parts.query)).get("host") or parts.hostname or "localhost"
        self._port = parts.port or 5432
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, database_url: str) -> str:
        """`database_url` through the proxy."""
        parts = urlsplit(database_url)
        user = parts.netloc.rpartition("@")[0]
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
        return urlunsplit((parts.scheme, f"{user}@127.0.0.1:{self.port}", parts.path, query, ""))

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self._host.startswith("/"):  # a unix socket folder, as the embedded server's
                upstream = await asyncio.open_unix_connection(f"{self._host}/.s.PGSQL.{self._port}")
            else:
                upstream = await asyncio.open_connection(self._host, self._port)
        except OSError:
            writer.transport.abort()
            return
        up_reader, up_writer = upstream
        if self._server is None:  # cut while this one was connecting
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()
