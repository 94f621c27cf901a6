"""The Idempotency-Key middleware against the real PostgreSQL, driven as an ASGI app."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from starlette.types import Message, Receive, Scope, Send

from shared.auth import mint_token
from shared.middleware import IdempotencyMiddleware
from shared.runtime import ServiceRuntime
from tests.conftest import Infra, make_settings


@pytest.fixture
async def runtime(infra: Infra, order_db: str):
    rt = ServiceRuntime("order", make_settings(infra, order_db))
    yield rt
    await rt.db.close()


class CountingApp:
    """Answers each request with `status` and the number of times it ran."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        self.calls += 1
        body = json.dumps({"call": self.calls}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def post(app: IdempotencyMiddleware, runtime: ServiceRuntime, key: str, seen: list) -> None:
    """One POST; `seen` gets the response messages and, at the response start, the stored
    status of the key (what a retry sent the moment the client has the answer would find)."""
    token = mint_token(runtime.settings.effective_jwt_secret, sub="buyer-a", role="buyer")
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/things",
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", key.encode()),
        ],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            async with runtime.db.transaction() as conn:
                stored = await conn.scalar(
                    text("SELECT status_code FROM idempotency_keys WHERE key = :key"), {"key": key}
                )
            seen.append(("stored", stored))
        seen.append(message)

    await app(scope, receive, send)


async def test_the_response_is_stored_before_the_client_receives_it(runtime) -> None:
    inner = CountingApp(201)
    app = IdempotencyMiddleware(inner, runtime)
    first: list = []
    await post(app, runtime, "k-1", first)
    assert first[0] == ("stored", 201)
    second: list = []
    await post(app, runtime, "k-1", second)
    assert inner.calls == 1
    assert second[1]["status"] == 201 and (b"idempotent-replayed", b"true") in second[1]["headers"]
    assert second[2]["body"] == first[2]["body"] == b'{"call": 1}'


async def test_a_server_error_releases_the_key_so_a_retry_runs_again(runtime) -> None:
    inner = CountingApp(503)
    app = IdempotencyMiddleware(inner, runtime)
    first: list = []
    await post(app, runtime, "k-2", first)
    assert first[0] == ("stored", None) and first[1]["status"] == 503
    inner.status = 201
    second: list = []
    await post(app, runtime, "k-2", second)
    assert inner.calls == 2 and second[0] == ("stored", 201)
