"""Run one service under uvicorn on its configured port."""

from __future__ import annotations

import uvicorn

from shared.settings import Settings


def serve(service: str, factory: str) -> None:
    settings = Settings()
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port_for(service),
        log_level="warning",
        access_log=False,
    )
