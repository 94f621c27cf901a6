"""The HTTP app factory every service uses: problem errors, auth (see shared.auth),
Idempotency-Key replay, correlation ids, health, readiness, metrics and the dead-letter
operations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_wsgi_server
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.aggregate import DomainError
from shared.auth import Principal, require
from shared.consumer import DeadLetterNotFound
from shared.edge import EdgeMiddleware
from shared.eventstore import ConcurrencyError
from shared.logging import configure_logging
from shared.middleware import IdempotencyMiddleware, ObservabilityMiddleware
from shared.money import MoneyOverflow
from shared.problems import Problem, problem_response
from shared.ratelimit import RateLimitMiddleware
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
    public_paths: Sequence[str] = (),
) -> FastAPI:
    """`public_paths`: paths under /v1/ that need no bearer token at the edge (their route
    authenticates the caller another way: shared.edge)."""
    configure_logging(runtime.service, runtime.settings.log_level)

    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics_server = None
        if settings.metrics_access == "port":
            port = settings.metrics_port_for(runtime.service)
            metrics_server, _ = start_wsgi_server(port, addr=settings.host)
            log.info("metrics served on their own port", host=settings.host, port=port)
        if start_background:
            await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            if metrics_server is not None:
                await asyncio.to_thread(metrics_server.shutdown)  # waits for its poll
                metrics_server.server_close()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    _install_error_handlers(app)
    # The last added runs first: observability, the edge, the rate limit, idempotency.
    app.add_middleware(IdempotencyMiddleware, runtime=runtime)
    app.add_middleware(RateLimitMiddleware, settings=runtime.settings)
    app.add_middleware(EdgeMiddleware, settings=runtime.settings, public=public_paths)
    app.add_middleware(ObservabilityMiddleware, service=runtime.service)
    app.include_router(_operations_router(metrics_on_this_port=settings.metrics_access != "port"))
    for router in routers:
        app.include_router(router)
    _document_idempotency_key(app)
    return app


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and body (same caller, path and query) gets the "
    "first answer and changes nothing; the same key with another request is a 422. At most "
    "200 characters; kept for the retention period.",
    "schema": {"type": "string", "maxLength": 200},
}


def _document_idempotency_key(app: FastAPI) -> None:
    """Every write operation's OpenAPI names the Idempotency-Key header (the middleware
    handles it, so no route declares it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for method, operation in operations.items():
                    if method.upper() in IDEMPOTENT_METHODS:
                        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- errors ---------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc.status, exc.title, exc.detail, exc.code, headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.code, **exc.extra)

    @app.exception_handler(ConcurrencyError)
    async def on_conflict(_: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem_response(
            409,
            "Concurrent update",
            "the resource changed while we wrote; retry",
            "concurrent-update",
        )

    @app.exception_handler(MoneyOverflow)
    async def on_money_overflow(_: Request, exc: MoneyOverflow) -> JSONResponse:
        return problem_response(422, "Amount too large", str(exc), "amount-too-large")

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


# --- operations -----------------------------------------------------------------------------


def _operations_router(*, metrics_on_this_port: bool) -> APIRouter:
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

    if metrics_on_this_port:

        @router.get("/metrics")
        async def prometheus(_: Principal = require("operator")) -> Response:
            """Prometheus text format, for operators: the counters are business volumes."""
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
        request: Request,
        dead_letter_id: int = Path(ge=1, le=2**63 - 1),
        _: Principal = require("operator"),
    ) -> dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        for consumer in runtime.consumers.values():
            try:
                return await consumer.retry_dead_letter(dead_letter_id)
            except DeadLetterNotFound:
                continue
        raise Problem(404, "Not found", f"no open dead letter {dead_letter_id}")

    return router
