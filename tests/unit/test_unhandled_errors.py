"""What a caller gets when no handler answered an error: a problem, never internals."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from shared.middleware import ObservabilityMiddleware


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise error

    app.add_middleware(ObservabilityMiddleware, service="test")
    return app


async def answer(error: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/boom")


@pytest.mark.parametrize(
    "error, status",
    [
        (asyncpg.DataError('value "99999999999" is out of range for type integer'), 422),
        (
            sa_exc.DBAPIError("SELECT :x", {"x": "secret"}, asyncpg.DataError("bad"), False),
            422,
        ),
        (ConnectionRefusedError(111, "Connection refused"), 503),
        (RuntimeError("internal detail: /srv/app.py line 3, password=hunter2"), 500),
    ],
    ids=["database-refused-a-value", "wrapped-by-sqlalchemy", "database-unreachable", "bug"],
)
async def test_an_unhandled_error_is_a_problem_without_internals(
    error: Exception, status: int
) -> None:
    r = await answer(error)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for internal in ("hunter2", "app.py", "99999999999", "secret", "Traceback", "asyncpg"):
        assert internal not in r.text
