"""The HTTP app factory every service uses: problem errors, auth (see shared.auth),
Idempotency-Key replay, correlation ids, health, readiness, metrics and the dead-letter
operations."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import context, metrics
from shared.aggregate import DomainError
from shared.auth import Principal, decode_token, require
from shared.consumer import DeadLetterNotFound
from shared.eventstore import ConcurrencyError
from shared.logging import configure_logging
from shared.problems import Problem, problem_response
from shared.runtime import ServiceRuntime

log = structlog.get_logger()

IDEMPOTENT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def create_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    *,
    title: str,
    description: str = "",
    start_background: bool = True,
) -> FastAPI:
    configure_logging(runtime.service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_background:
            await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    _install_error_handlers(app)
    app.middleware("http")(_idempotency_middleware)
    app.middleware("http")(_observability_middleware)
    app.include_router(_operations_router())
    for router in routers:
        app.include_router(router)
    return app


# --- errors ---------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc.status, exc.title, exc.detail, exc.code, headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.code)

    @app.exception_handler(ConcurrencyError)
    async def on_conflict(_: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem_response(
            409,
            "Concurrent update",
            "the resource changed while we wrote; retry",
            "concurrent-update",
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            422,
            "Validation failed",
            f"invalid fields: {fields}",
            "validation-failed",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(exc.status_code, title, str(exc.detail), title)


# --- middleware -----------------------------------------------------------------------------


async def _observability_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    cid = request.headers.get("x-correlation-id") or str(uuid.uuid4())
    context.correlation_id.set(cid)
    context.causation_id.set(None)
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    metrics.HTTP_REQUESTS.labels(runtime.service, request.method, path, response.status_code).inc()
    metrics.HTTP_LATENCY.labels(runtime.service, path).observe(time.perf_counter() - started)
    response.headers["X-Correlation-ID"] = cid
    return response


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
_RELEASE_KEY = text("DELETE FROM idempotency_keys WHERE caller = :caller AND key = :key")


async def _idempotency_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A retry with the same Idempotency-Key and body gets the first response and changes
    nothing; the same key with another body is a 422. Keys are scoped to the caller."""
    key = request.headers.get("idempotency-key")
    if request.method not in IDEMPOTENT_METHODS or not key:
        return await call_next(request)
    runtime: ServiceRuntime = request.app.state.runtime
    caller = _caller(request, runtime)
    if caller is None:  # no valid token: let the route answer 401
        return await call_next(request)
    if len(key) > 200:
        return problem_response(
            422, "Invalid Idempotency-Key", "the key is longer than 200 characters", "invalid-key"
        )
    body = await request.body()
    digest = hashlib.sha256(
        b"|".join([request.method.encode(), request.url.path.encode(), body])
    ).hexdigest()
    params = {"caller": caller, "key": key}
    async with runtime.db.transaction() as conn:
        claimed = (await conn.execute(_CLAIM_KEY, {**params, "hash": digest})).first()
        stored = None if claimed else (await conn.execute(_GET_KEY, params)).first()
    if stored is not None:
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
    try:
        response = await call_next(request)
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    except BaseException:
        async with runtime.db.transaction() as conn:
            await conn.execute(_RELEASE_KEY, params)
        raise
    content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    async with runtime.db.transaction() as conn:
        if response.status_code >= 500:
            await conn.execute(_RELEASE_KEY, params)
        else:
            await conn.execute(
                _SAVE_KEY,
                {
                    **params,
                    "status": response.status_code,
                    "ctype": response.headers.get("content-type"),
                    "body": content,
                },
            )
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(content=content, status_code=response.status_code, headers=headers)


def _caller(request: Request, runtime: ServiceRuntime) -> str | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    try:
        principal = decode_token(runtime.settings.effective_jwt_secret, auth[7:])
    except Problem:
        return None
    return f"{principal.role}:{principal.sub}"


# --- operations -----------------------------------------------------------------------------


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    @router.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/v1/dead-letters")
    async def dead_letters(
        request: Request, include_resolved: bool = False, _: Principal = require("operator")
    ) -> dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        async with runtime.db.connect() as conn:
            rows = await conn.execute(
                text(
                    'SELECT id, consumer, topic, partition, "offset", event_id, error, attempts, '
                    "created_at, retried_at, resolved_at FROM dead_letters "
                    "WHERE :all OR resolved_at IS NULL ORDER BY id LIMIT 500"
                ),
                {"all": include_resolved},
            )
            return {"items": [dict(r._mapping) for r in rows]}

    @router.post("/v1/dead-letters/{dead_letter_id}/retry")
    async def retry_dead_letter(
        request: Request, dead_letter_id: int, _: Principal = require("operator")
    ) -> dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        for consumer in runtime.consumers.values():
            try:
                return await consumer.retry_dead_letter(dead_letter_id)
            except DeadLetterNotFound:
                continue
        raise Problem(404, "Not found", f"no open dead letter {dead_letter_id}")

    return router
