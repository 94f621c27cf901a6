"""The dashboard's sign-in: a bearer token is exchanged for an HttpOnly, SameSite=Strict,
Secure session cookie scoped to /dashboard that expires with the token; only the dashboard's
routes accept it; state changes on it need our Origin; pages carry a CSP and deny framing."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import jwt
import pytest

from services.analytics.app import create_analytics_app
from services.analytics.dashboard import STATIC
from shared.auth import mint_token
from tests.conftest import make_settings


@pytest.fixture
async def dashboard(infra, analytics_db, serve_app):  # type: ignore[no-untyped-def]
    settings = make_settings(infra, analytics_db)
    server = await serve_app(create_analytics_app(settings))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        yield client, settings


def token(settings, role: str, ttl: timedelta = timedelta(hours=1), **claims: str) -> str:  # type: ignore[no-untyped-def]
    return mint_token(settings.effective_jwt_secret, sub=f"{role}-1", role=role, ttl=ttl, **claims)


async def sign_in(client: httpx.AsyncClient, bearer: str) -> tuple[httpx.Response, str]:
    """The answer, and the session cookie as a Cookie header (httpx keeps a Secure cookie
    from plain http to itself)."""
    r = await client.post("/dashboard/session", headers={"Authorization": f"Bearer {bearer}"})
    found = re.match(r"shopflow_dashboard=([^;]*)", r.headers.get("set-cookie", ""))
    return r, f"shopflow_dashboard={found.group(1)}" if found else ""


async def test_signing_in_sets_a_strict_httponly_secure_cookie_that_ends_with_the_token(
    dashboard,
) -> None:  # type: ignore[no-untyped-def]
    client, settings = dashboard
    bearer = token(settings, "seller", ttl=timedelta(minutes=10), seller_id="shop-a")
    r, cookie = await sign_in(client, bearer)
    assert r.status_code == 200, r.text
    assert r.json()["dashboard"] == "/dashboard/sellers/shop-a"
    attributes = {a.strip().split("=")[0].lower(): a for a in r.headers["set-cookie"].split(";")}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes.keys()
    assert attributes["samesite"].split("=")[1].lower() == "strict"
    assert attributes["path"].split("=")[1] == "/dashboard"
    assert 0 < int(attributes["max-age"].split("=")[1]) <= 600
    session = jwt.decode(cookie.split("=", 1)[1], options={"verify_signature": False})
    assert session["exp"] <= jwt.decode(bearer, options={"verify_signature": False})["exp"]

    assert (await sign_in(client, token(settings, "buyer")))[0].status_code == 403
    assert (await client.post("/dashboard/session")).status_code == 401
    foreign = await client.post(
        "/dashboard/session",
        headers={"Authorization": f"Bearer {bearer}", "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


async def test_the_cookie_opens_the_dashboards_routes_only(dashboard) -> None:  # type: ignore[no-untyped-def]
    client, settings = dashboard
    _, cookie = await sign_in(client, token(settings, "seller", seller_id="shop-a"))
    headers = {"Cookie": cookie}
    page = await client.get("/dashboard/sellers/shop-a", headers=headers)
    assert page.status_code == 200 and "data-token" not in page.text
    metrics = await client.get("/dashboard/api/sellers/shop-a/metrics", headers=headers)
    assert metrics.status_code == 200 and "total" in metrics.json()
    views = await client.get("/dashboard/api/order-views?needs_action=true", headers=headers)
    assert views.status_code == 200 and views.json()["items"] == []
    other = await client.get("/dashboard/api/sellers/shop-b/metrics", headers=headers)
    assert other.status_code == 404  # another seller's shop
    assert (await client.get("/dashboard/sellers/shop-b", headers=headers)).status_code == 404
    # Every other API stays bearer-only: the cookie opens none of them.
    assert (await client.get("/v1/sellers/shop-a/metrics", headers=headers)).status_code == 401
    assert (await client.get("/v1/order-views", headers=headers)).status_code == 401


async def test_the_token_in_the_url_no_longer_opens_anything(dashboard) -> None:  # type: ignore[no-untyped-def]
    client, settings = dashboard
    bearer = token(settings, "seller", seller_id="shop-a")
    page = await client.get("/dashboard/sellers/shop-a", params={"token": bearer})
    assert page.status_code == 303 and page.headers["location"] == "/dashboard/sign-in"
    data = await client.get("/dashboard/api/sellers/shop-a/metrics", params={"token": bearer})
    assert data.status_code == 401
    # Nor does a bearer token passed off as the cookie, nor a tampered cookie.
    as_cookie = {"Cookie": f"shopflow_dashboard={bearer}"}
    assert (await client.get("/dashboard/api/order-views", headers=as_cookie)).status_code == 401
    _, cookie = await sign_in(client, token(settings, "operator"))
    tampered = {"Cookie": cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")}
    assert (await client.get("/dashboard/api/order-views", headers=tampered)).status_code == 401


async def test_signing_out_needs_our_origin_and_clears_the_cookie(dashboard) -> None:  # type: ignore[no-untyped-def]
    client, settings = dashboard
    _, cookie = await sign_in(client, token(settings, "operator"))
    own = client.base_url.scheme + "://" + client.base_url.netloc.decode()
    for origin in (None, "https://evil.example"):
        headers = {"Cookie": cookie} | ({"Origin": origin} if origin else {})
        assert (await client.delete("/dashboard/session", headers=headers)).status_code == 403
    out = await client.delete("/dashboard/session", headers={"Cookie": cookie, "Origin": own})
    assert out.status_code == 204
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith('shopflow_dashboard=""') and "max-age=0" in cleared


async def test_pages_send_a_csp_without_inline_script_and_deny_framing(dashboard) -> None:  # type: ignore[no-untyped-def]
    client, settings = dashboard
    _, cookie = await sign_in(client, token(settings, "operator"))
    for path in (
        "/dashboard/sign-in",
        "/dashboard/sellers/shop-a",
        "/dashboard/static/dashboard.js",
        "/dashboard/api/order-views",
    ):
        r = await client.get(path, headers={"Cookie": cookie})
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    for page in STATIC.glob("*.html"):  # every script is a file the CSP allows
        scripts = re.findall(r"<script([^>]*)>", page.read_text())
        assert scripts and all('src="/dashboard/static/' in s for s in scripts), page.name
    assert "onclick" not in "".join(p.read_text() for p in STATIC.glob("*.html"))
