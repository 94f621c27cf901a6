"""The Idempotency-Key middleware against the real PostgreSQL, driven as an ASGI app."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text
from starlette.types import Message, Receive, Scope, Send

from shared.auth import mint_token
from shared.middleware import IdempotencyMiddleware
from shared.runtime import ServiceRuntime
from tests.conftest import Infra, eventually, make_settings


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


class WritingApp(CountingApp):
    """Records a row through the service's database (as a command does), then answers."""

    def __init__(self, status: int, runtime: ServiceRuntime) -> None:
        super().__init__(status)
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.runtime.db.transaction() as conn:
            await conn.execute(text("INSERT INTO effects (note) VALUES ('applied')"))
        await super().__call__(scope, receive, send)


async def test_the_effects_and_the_stored_response_commit_together(runtime) -> None:
    """If storing the response fails (here a trigger refuses it; in life the database dies
    between the two), the request's effects are undone with it, so the client's retry runs
    once more and the effect exists once, not twice (nor once with a 409 on the retry)."""
    async with runtime.db.transaction() as conn:
        await conn.execute(text("CREATE TABLE effects (note text)"))
        await conn.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'storage refused'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_responses BEFORE UPDATE ON idempotency_keys "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        )
    inner = WritingApp(201, runtime)
    app = IdempotencyMiddleware(inner, runtime)
    with pytest.raises(Exception, match="storage refused"):
        await post(app, runtime, "k-3", [])
    async with runtime.db.transaction() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM effects")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM idempotency_keys")) == 0
        await conn.execute(text("DROP TRIGGER refuse_responses ON idempotency_keys"))

    retried: list = []
    await post(app, runtime, "k-3", retried)
    again: list = []
    await post(app, runtime, "k-3", again)
    assert inner.calls == 2 and retried[0] == ("stored", 201)
    assert again[1]["status"] == 201 and again[2]["body"] == retried[2]["body"]
    async with runtime.db.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM effects")) == 1


async def test_a_retry_during_the_first_request_waits_for_it_and_replays_its_answer(
    runtime,
) -> None:
    """The claim's row is locked until the first request's unit of work commits (whichever
    of the two claims first, the other waits and replays)."""
    entered, release = asyncio.Event(), asyncio.Event()

    class SlowApp(CountingApp):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            entered.set()
            await release.wait()
            await super().__call__(scope, receive, send)

    inner = SlowApp(201)
    app = IdempotencyMiddleware(inner, runtime)
    first: list = []
    second: list = []
    running = asyncio.create_task(post(app, runtime, "k-4", first))
    await asyncio.wait_for(entered.wait(), 20)
    retry = asyncio.create_task(post(app, runtime, "k-4", second))

    async def retry_waits_on_the_claim() -> bool:
        async with runtime.db.connect() as conn:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        return bool(waiting)

    await eventually(retry_waits_on_the_claim)
    assert not retry.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(running, retry), 20)
    assert inner.calls == 1
    assert first[1]["status"] == second[1]["status"] == 201
    assert first[2]["body"] == second[2]["body"] == b'{"call": 1}'


async def keyed(
    app: IdempotencyMiddleware,
    runtime: ServiceRuntime,
    key: str,
    *,
    query: bytes = b"",
    **claims: str,
) -> list[Message]:
    """One POST with `key`, as the principal of `claims` (a buyer by default)."""
    claims = {"sub": "buyer-a", "role": "buyer", **claims}
    token = mint_token(runtime.settings.effective_jwt_secret, **claims)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/things",
        "query_string": query,
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", key.encode()),
        ],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": '{"名": "茶"}'.encode(), "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_key_is_scoped_to_the_whole_principal(runtime) -> None:
    """Two sellers' tokens with the same `sub` (one person working for two shops) do not
    share a key: the second shop's request runs and is not answered with the first's."""
    inner = CountingApp(201)
    app = IdempotencyMiddleware(inner, runtime)
    await keyed(app, runtime, "k-5", sub="user-1", role="seller", seller_id="shop-1")
    second = await keyed(app, runtime, "k-5", sub="user-1", role="seller", seller_id="shop-2")
    assert inner.calls == 2 and second[1]["body"] == b'{"call": 2}'
    carrier = await keyed(app, runtime, "k-5", sub="user-1", role="carrier", carrier="SPX")
    assert inner.calls == 3 and carrier[1]["body"] == b'{"call": 3}'


async def test_the_query_string_is_part_of_the_request(runtime) -> None:
    inner = CountingApp(201)
    app = IdempotencyMiddleware(inner, runtime)
    await keyed(app, runtime, "k-6", query=b"type=SHIPPING_LABEL")
    again = await keyed(app, runtime, "k-6", query=b"type=SHIPPING_LABEL")
    assert inner.calls == 1 and again[0]["status"] == 201
    other = await keyed(app, runtime, "k-6", query=b"type=PACKING_SLIP")
    assert inner.calls == 1 and other[0]["status"] == 422


@pytest.mark.parametrize("status", [401, 403])
async def test_an_unauthorized_answer_is_not_stored(runtime, status: int) -> None:
    """A 401 (a bad webhook signature) or 403: once the caller fixes its credentials, the
    retry with the same key runs."""
    inner = CountingApp(status)
    app = IdempotencyMiddleware(inner, runtime)
    first = await keyed(app, runtime, f"k-7-{status}")
    assert first[0]["status"] == status
    inner.status = 201
    retried = await keyed(app, runtime, f"k-7-{status}")
    assert inner.calls == 2 and retried[0]["status"] == 201
