"""Pure ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware on every request):
correlation ids and metrics, and Idempotency-Key replay."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import structlog
from sqlalchemy import text
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import context, metrics
from shared.db import is_bad_value, is_outage
from shared.edge import bearer_principal, principal_key, principal_of
from shared.problems import Problem, problem_response
from shared.runtime import ServiceRuntime

log = structlog.get_logger()

IDEMPOTENT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ObservabilityMiddleware:
    """Binds the correlation id (X-Correlation-ID, or a new one) and counts requests. An
    error no handler answered becomes a problem response before anything was sent: a
    database outage a 503 to retry, anything else a 500 that tells nothing of the code (the
    log has the traceback)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = _header(scope, b"x-correlation-id") or str(uuid.uuid4())
        context.correlation_id.set(cid)
        context.causation_id.set(None)
        started = time.perf_counter()
        status = 500

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", cid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started_response:
                raise
            response = _unhandled(exc)
            await response(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], route, status).inc()
            metrics.HTTP_LATENCY.labels(self.service, route).observe(time.perf_counter() - started)


def _unhandled(exc: Exception) -> Response:
    if is_outage(exc):
        log.warning("request failed: the database is unreachable", error=repr(exc))
        return problem_response(
            503,
            "Service unavailable",
            "the service cannot reach its database; retry shortly with the same Idempotency-Key",
            "unavailable",
            headers={"Retry-After": "1"},
        )
    if is_bad_value(exc):
        log.warning("request refused: the database refused one of its values", error=repr(exc))
        return problem_response(
            422,
            "Invalid value",
            "a value of the request is out of the range or the characters the service stores",
            "invalid-value",
        )
    log.exception("request failed", error=repr(exc))
    return problem_response(
        500,
        "Internal error",
        "the request failed; it is logged under its correlation id",
        "internal-error",
    )


# A claim left by a request that died mid-way (no response stored) expires after a minute.
_CLAIM_KEY = text(
    """
    INSERT INTO idempotency_keys AS k (caller, key, request_hash)
    VALUES (:caller, :key, :hash)
    ON CONFLICT (caller, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, created_at = now()
        WHERE k.status_code IS NULL AND k.created_at < now() - interval '60 seconds'
    RETURNING 1
    """
)
_GET_KEY = text(
    "SELECT request_hash, status_code, content_type, body FROM idempotency_keys "
    "WHERE caller = :caller AND key = :key"
)
_SAVE_KEY = text(
    "UPDATE idempotency_keys SET status_code = :status, content_type = :ctype, body = :body "
    "WHERE caller = :caller AND key = :key"
)


class _RollBack(Exception):
    """A 5xx answer, or a 401/403 (the caller's credentials, not the request, were wrong):
    the unit of work is rolled back, the key stays free for the retry."""


async def _messages(response: Response, scope: Scope) -> list[Message]:
    """What `response` would send, to send later."""
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def collect(message: Message) -> None:
        messages.append(message)

    await response(scope, receive, collect)
    return messages


class IdempotencyMiddleware:
    """A retry with the same Idempotency-Key and request (method, path, query and body) gets
    the first response and changes nothing; the same key with another request is a 422. Keys
    are scoped to the whole principal."""

    def __init__(self, app: ASGIApp, runtime: ServiceRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        caller = self._caller(scope) if key and scope["method"] in IDEMPOTENT_METHODS else None
        if key is None or caller is None:  # nothing to do, or no valid token: the route answers
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await problem_response(
                422,
                "Invalid Idempotency-Key",
                "the key is longer than 200 characters",
                "invalid-key",
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(
            b"|".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()
        params = {"caller": caller, "key": key}
        messages = await self._first_request(scope, receive, body, digest, params)
        for message in messages:
            await send(message)

    async def _first_request(
        self, scope: Scope, receive: Receive, body: bytes, digest: str, params: dict[str, str]
    ) -> list[Message]:
        """The route runs in one unit of work with the key's claim and its stored response:
        a retry that comes while the first runs waits on the claim's row, then replays; a
        5xx or a crash leaves nothing, so the retry runs afresh."""
        replayed = False

        async def replay_body() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        content_type: str | None = None
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            messages.append(message)

        try:
            async with self.runtime.db.unit_of_work() as conn:
                claimed = (await conn.execute(_CLAIM_KEY, {**params, "hash": digest})).first()
                if not claimed:
                    stored = (await conn.execute(_GET_KEY, params)).first()
                    return await _messages(self._answer_repeat(stored, digest), scope)
                await self.app(scope, replay_body, capture)
                if status >= 500 or status in (401, 403):
                    raise _RollBack
                stored_body = b"".join(
                    m.get("body", b"") for m in messages if m["type"] == "http.response.body"
                )
                await conn.execute(
                    _SAVE_KEY,
                    {**params, "status": status, "ctype": content_type, "body": stored_body},
                )
        except _RollBack:
            pass
        return messages

    @staticmethod
    def _answer_repeat(stored: Any, digest: str) -> Response:
        if stored.request_hash != digest:
            return problem_response(
                422,
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request",
                "idempotency-key-reused",
            )
        if stored.status_code is None:
            return problem_response(
                409,
                "Request in progress",
                "a request with this Idempotency-Key is still being processed",
                "idempotency-in-progress",
            )
        return Response(
            content=bytes(stored.body),
            status_code=stored.status_code,
            media_type=stored.content_type,
            headers={"Idempotent-Replayed": "true"},
        )

    def _caller(self, scope: Scope) -> str | None:
        """The whole principal (the edge's, else the token's): a key of one seller's or
        carrier's token is not another's even when `sub` is the same."""
        principal = principal_of(scope)
        if principal is None:
            try:
                principal = bearer_principal(scope, self.runtime.settings)
            except Problem:
                return None
        return principal_key(principal)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)
