"""Run services under uvicorn: as a process on its configured port, or inside a running
event loop on a free loopback port (tests and benchmarks)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from shared.settings import Settings

# Idle keep-alive connections stay open this long (uvicorn's default is 5 s). A client that
# reuses a pooled connection just as the server closes it gets a read error (httpx does not
# retry it); keeping connections longer than callers' idle gaps, as load balancers do, avoids
# that race.
KEEP_ALIVE_S = 75


def serve(service: str) -> None:
    """Serve `services.<service>.app:create_<service>_app`, the convention of every service."""
    settings = Settings()
    uvicorn.run(
        f"services.{service}.app:create_{service}_app",
        factory=True,
        host=settings.host,
        port=settings.port_for(service),
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


@dataclass
class BackgroundServer:
    app: FastAPI
    base_url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def serve_in_background(app: FastAPI, timeout_s: float = 30.0) -> BackgroundServer:
    """Start `app` (with its lifespan) on 127.0.0.1 and a free port; returns once it serves."""
    # uvicorn binds port 0 itself: a socket handed in through `sockets=` was served ~20x
    # slower here (40 ms per request, the Nagle/delayed-ACK signature).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn exited before it started")
        if loop.time() > deadline:
            raise TimeoutError("uvicorn did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return BackgroundServer(app, f"http://127.0.0.1:{port}", server, task)
