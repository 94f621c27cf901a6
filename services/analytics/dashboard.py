"""The seller dashboard: sign-in, its pages and the reads they make, on a session cookie.

Signing in (`POST /dashboard/session`) exchanges a seller's or an operator's bearer token for
a session cookie: a JWT signed with a key derived from the JWT secret for this purpose only
(so neither can stand for the other), expiring with the token at the latest, HttpOnly,
SameSite=Strict, Secure outside development, and scoped to `/dashboard`: only the
dashboard's own routes accept it, every other API stays bearer-only (and so safe from
cross-site requests). A state-changing request on the cookie must also come from the
dashboard's own origin (`Origin`). Pages carry a Content-Security-Policy without inline
script, and deny framing.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AwareDatetime
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.analytics import api
from shared.auth import Principal, authenticate
from shared.events.order import OrderStatus
from shared.pagination import MAX_LIMIT
from shared.problems import Problem

router = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).parent / "static"
COOKIE = "shopflow_dashboard"
COOKIE_PATH = "/dashboard"
AUDIENCE = "shopflow-dashboard"
SIGN_IN = "/dashboard/sign-in"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# --- sessions -------------------------------------------------------------------------------


def _key(request: Request) -> bytes:
    """The sessions' signing key: derived from the JWT secret, for this use only."""
    secret = request.app.state.runtime.settings.effective_jwt_secret
    return hmac.new(secret.encode(), b"shopflow dashboard session", hashlib.sha256).digest()


def _from_own_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.headers.get("host")


def session_caller(request: Request) -> Principal:
    """The signed-in seller or operator; a state-changing request must come from our origin."""
    if request.method not in SAFE_METHODS and not _from_own_origin(request):
        raise Problem(403, "Forbidden", "a cookie request that changes state must come from here")
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise Problem(401, "Unauthorized", f"not signed in: sign in at {SIGN_IN}")
    try:
        claims = jwt.decode(
            cookie,
            _key(request),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.PyJWTError as exc:
        raise Problem(401, "Unauthorized", f"no valid session: sign in at {SIGN_IN}") from exc
    return Principal(sub=claims["sub"], role=claims["role"], seller_id=claims.get("seller_id"))


def _cookie_secure(request: Request) -> bool:
    return bool(request.app.state.runtime.settings.environment != "development")


@router.post("/dashboard/session")
async def sign_in(request: Request, response: Response) -> dict[str, Any]:
    """Exchange a seller's or an operator's bearer token for the dashboard's session cookie
    (it expires with the token, after `SHOPFLOW_ANALYTICS_DASHBOARD_SESSION_HOURS` at most).
    `dashboard` is where a seller's dashboard is; an operator picks the seller."""
    if "origin" in request.headers and not _from_own_origin(request):
        raise Problem(403, "Forbidden", "sign in from the dashboard's own pages")
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Problem(401, "Unauthorized", "missing bearer token")
    raw = header[7:]
    caller = authenticate(request.app.state.runtime.settings, raw)
    if caller.role not in ("seller", "operator"):
        raise Problem(403, "Forbidden", "the dashboard is for sellers and operators")
    now = int(time.time())
    token_exp = jwt.decode(raw, options={"verify_signature": False}).get("exp")
    longest = now + int(request.app.state.analytics_settings.dashboard_session_hours * 3600)
    exp = min(int(token_exp), longest) if token_exp is not None else longest
    claims = {"sub": caller.sub, "role": caller.role, "aud": AUDIENCE, "iat": now, "exp": exp}
    if caller.seller_id:
        claims["seller_id"] = caller.seller_id
    response.set_cookie(
        COOKIE,
        jwt.encode(claims, _key(request), algorithm="HS256"),
        max_age=max(exp - now, 0),
        path=COOKIE_PATH,
        secure=_cookie_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    seller = caller.seller_id if caller.role == "seller" else None
    return {
        "role": caller.role,
        "seller_id": seller,
        "expires_at": datetime.fromtimestamp(exp, UTC).isoformat(),
        "dashboard": f"/dashboard/sellers/{seller}" if seller else None,
    }


@router.delete("/dashboard/session", status_code=204)
async def sign_out(request: Request) -> Response:
    """Clear the session cookie (from the dashboard's own pages)."""
    if not _from_own_origin(request):
        raise Problem(403, "Forbidden", "a cookie request that changes state must come from here")
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        secure=_cookie_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


# --- pages ----------------------------------------------------------------------------------


def _page(name: str, **values: str) -> HTMLResponse:
    page = (STATIC / name).read_text()
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def _signed_in(request: Request) -> Principal | None:
    try:
        return session_caller(request)
    except Problem:
        return None


@router.get("/dashboard/sign-in", response_class=HTMLResponse)
async def sign_in_page() -> HTMLResponse:
    """Paste a seller's or an operator's token to sign in to the dashboard."""
    return _page("signin.html")


@router.get("/dashboard/sellers/{seller_id}", response_class=HTMLResponse, response_model=None)
async def seller_dashboard(seller_id: str, request: Request) -> Response:
    """The seller's dashboard: orders and GMV per day, the standing metrics against their
    thresholds, and the orders needing action. Sign in first (`/dashboard/sign-in`)."""
    caller = _signed_in(request)
    if caller is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    caller.sellers_reach(seller_id)
    now = api.service(request).runtime.now().isoformat()
    return _page("dashboard.html", seller_id=seller_id, now=now)


@router.get("/dashboard/orders/{order_id}", response_class=HTMLResponse, response_model=None)
async def order_page(order_id: uuid.UUID, request: Request) -> Response:
    """One order's view and timeline (the dashboard links here); only for an order the
    signed-in caller may see (404 otherwise, as its data)."""
    caller = _signed_in(request)
    if caller is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    await api.order_view(order_id, request, caller)
    return _page("order.html", order_id=str(order_id))


# --- the pages' reads: the same as /v1's, on the session ------------------------------------


@router.get("/dashboard/api/sellers/{seller_id}/metrics")
async def dashboard_metrics(
    seller_id: str,
    request: Request,
    from_: AwareDatetime | None = Query(None, alias="from"),
    to: AwareDatetime | None = None,
    granularity: Literal["day", "total"] = "day",
    caller: Principal = Depends(session_caller),
) -> dict[str, Any]:
    """`GET /v1/sellers/{seller_id}/metrics` for the signed-in caller."""
    return await api.seller_metrics(seller_id, request, from_, to, granularity, caller)


@router.get("/dashboard/api/order-views")
async def dashboard_order_views(
    request: Request,
    seller_id: str | None = Query(None, max_length=100),
    status: OrderStatus | None = None,
    needs_action: bool = False,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = Depends(session_caller),
) -> dict[str, Any]:
    """`GET /v1/order-views` for the signed-in caller."""
    return await api.order_views(
        request, seller_id, status, None, None, needs_action, limit, cursor, caller
    )


@router.get("/dashboard/api/order-views/{order_id}")
async def dashboard_order_view(
    order_id: uuid.UUID, request: Request, caller: Principal = Depends(session_caller)
) -> dict[str, Any]:
    """`GET /v1/order-views/{order_id}` for the signed-in caller."""
    return await api.order_view(order_id, request, caller)


class DashboardHeaders:
    """Every response under /dashboard (pages, their scripts, their reads) gets the
    Content-Security-Policy, frame denial, nosniff and no referrer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(COOKIE_PATH + "/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)
