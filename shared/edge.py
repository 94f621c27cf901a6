"""The request edge (pure ASGI, before any route runs or any body is parsed): a NUL character
in the path or the query is refused (PostgreSQL cannot store it, so it would fail later as a
500); the bearer token of a protected path is checked before the body is read; a body over
`max_body_bytes` is refused by its Content-Length and, when streamed, by counting its chunks.

Protected paths are those under `/v1/` but the service's public ones (a carrier webhook, which
its route authenticates by signature). Health, readiness, metrics, the OpenAPI docs and the
dashboard pages (which take `?token=`) are outside `/v1/` and check what they need themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal, authenticate
from shared.problems import Problem, problem_response
from shared.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROTECTED_PREFIX = "/v1/"


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def principal_of(scope: Scope) -> Principal | None:
    """The caller the edge authenticated, if any."""
    principal = scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def principal_key(principal: Principal) -> str:
    """The whole principal as one string: two tokens share it only if they are the same
    caller with the same rights (role, sub, and the seller, carrier or provider it acts for)."""
    return json.dumps(
        [
            principal.role,
            principal.sub,
            principal.seller_id,
            principal.carrier,
            principal.provider,
        ],
        separators=(",", ":"),
    )


def bearer_principal(scope: Scope, settings: Settings) -> Principal:
    """The caller of the request's bearer token (shared.auth.authenticate: the deployment's
    secret, issuer and audience); a Problem (401) without a valid one."""
    auth = header(scope, b"authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "missing bearer token")
    return authenticate(settings, token.strip())


def nul_fields(scope: Scope) -> list[str]:
    """The path and the query parameters that carry a NUL character."""
    fields = ["path"] if "\x00" in scope["path"] else []
    query = scope.get("query_string", b"").decode("latin-1")
    if "\x00" in query or "%00" in query:
        named = [
            "query." + name.replace("\x00", "")
            for name, value in parse_qsl(query, keep_blank_values=True)
            if "\x00" in name or "\x00" in value
        ]
        fields.extend(named or ["query"])
    return fields


class EdgeMiddleware:
    """Refuses what the request line, the headers and the body's size say is bad, before the
    app sees it; keeps the authenticated principal in the scope's state for what follows."""

    def __init__(self, app: ASGIApp, settings: Settings, public: Iterable[str] = ()) -> None:
        self.app = app
        self.settings = settings
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_head(scope)
            messages, too_large = await _read_bounded(receive, self.settings.max_body_bytes)
            if too_large:  # the server discards the rest unread
                raise self._too_large_problem()
        except Problem as refused:
            headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
            response = problem_response(
                refused.status,
                refused.title,
                refused.detail,
                refused.code,
                headers,
                **refused.extra,
            )
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _check_head(self, scope: Scope) -> None:
        """What the request line and the headers alone decide; raises the refusal."""
        fields = nul_fields(scope)
        if fields:
            raise Problem(
                400,
                "Invalid characters",
                f"NUL characters are not allowed in: {', '.join(fields)}",
                code="invalid-characters",
                errors=[
                    {"field": f, "message": "contains a NUL character", "type": "nul"}
                    for f in fields
                ],
            )
        path = scope["path"]
        protected = path.startswith(PROTECTED_PREFIX) and path not in self.public
        try:
            principal: Principal | None = bearer_principal(scope, self.settings)
        except Problem:
            if protected:
                raise
            principal = None  # a public route: it decides what it accepts
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
        length = header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise Problem(
                    400, "Bad request", "Content-Length is not a number", code="bad-length"
                )
            if int(length) > self.settings.max_body_bytes:
                raise self._too_large_problem()

    def _too_large_problem(self) -> Problem:
        return Problem(
            413,
            "Content too large",
            f"the request body is over {self.settings.max_body_bytes} bytes",
            code="content-too-large",
        )


async def _read_bounded(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The body's messages as received, and whether they went over `limit` bytes (reading
    stops there: the rest is never read)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limit:
            return messages, True
        if not message.get("more_body"):
            return messages, False
