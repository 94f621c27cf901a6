"""The authorization matrix: every operation of every service's OpenAPI, as every role, against
the resources of a small simulated day that belong to other parties (its sellers, buyers,
pickup providers and carriers). A request on another party's resource is refused (401, 403
or 404; never a 2xx), and a list answered with 2xx names none of their resources.

A refusal says nothing of the resource: a 409 that tells a stranger the parcel exists and
whose it is, is a finding. The few operations where a 2xx is right for a stranger are listed
in `OPEN` with the reason (a buyer orders from a seller's catalogue; a seller creates its own
product or warehouse).
The table this builds is the matrix in docs/security.md (`SHOPFLOW_MATRIX_OUT` writes it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from schemathesis.core import NotSet

from bench.simulation import World, run_day, start_world, stop_world
from shared.auth import mint_token
from shared.settings import SERVICES, to_libpq_url
from tests.conftest import Infra

# A refusal: not signed in, not allowed, not found (as if it did not exist), or a request the
# schema refuses before anyone's data is looked at.
REFUSALS = {401, 403, 404, 422}
PUBLIC = {"/healthz", "/readyz", "/metrics"}  # probes and the scrape: no caller data
ATTACKERS = ("anonymous", "buyer", "seller", "driver", "carrier")
# (method, path, role): why a stranger's 2xx is right there.
OPEN: dict[tuple[str, str, str], str] = {
    ("POST", "/v1/orders", "buyer"): "a buyer orders from any seller's catalogue",
    ("GET", "/v1/products/{sku}", "buyer"): "the catalogue is public to buyers",
    ("GET", "/v1/products/{sku}", "seller"): "a seller reads its own product of that SKU",
    ("POST", "/v1/products", "seller"): "a seller creates its own product",
    ("PUT", "/v1/products/{sku}", "seller"): "a seller's SKUs are its own namespace",
    ("POST", "/v1/warehouses", "seller"): "a seller creates its own warehouse",
}


@dataclass
class Victims:
    """Ids of resources that belong to the simulated day's parties, by path parameter."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, values: list[str]) -> None:
        self.ids.setdefault(name, []).extend(v for v in values if v)

    def first(self, name: str) -> str | None:
        values = self.ids.get(name)
        return values[0] if values else None

    def everything(self) -> set[str]:
        return {v for values in self.ids.values() for v in values if len(v) >= 8}


def attacker_headers(secret: str, role: str) -> dict[str, str]:
    claims: dict[str, Any] = {
        "anonymous": {},
        "buyer": {"sub": "intruder-buyer", "role": "buyer"},
        "seller": {"sub": "intruder-staff", "role": "seller", "seller_id": "intruder-shop"},
        "driver": {"sub": "intruder-driver", "role": "driver", "provider": "INTRUDER"},
        "carrier": {"sub": "intruder-carrier", "role": "carrier", "carrier": "INTRUDER"},
    }[role]
    if not claims:
        return {}
    return {"Authorization": "Bearer " + mint_token(secret, **claims)}


async def _stream_ids(world: World, service: str, prefix: str) -> list[str]:
    conn = await asyncpg.connect(to_libpq_url(str(world.settings[service].database_url)))
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT split_part(stream_id, '/', 2) AS id FROM events "
            "WHERE stream_id LIKE $1",
            f"{prefix}/%",
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]


async def harvest(world: World, truths: list[Any]) -> Victims:
    victims = Victims()
    operator = world.token("operator", "matrix-harvest")
    victims.add("order_id", [t.order_id for t in truths])
    victims.add("seller_id", sorted({t.seller_id for t in truths}))
    victims.add("sku", ["MUG", "TEE"])
    for t in truths[:4]:
        r = await world.http["fulfillment"].get(
            f"/v1/orders/{t.order_id}/packages", headers=operator
        )
        if r.status_code == 200:
            victims.add("package_id", [p["package_id"] for p in r.json()["packages"]])
    victims.add("warehouse_id", await _stream_ids(world, "fulfillment", "warehouse"))
    victims.add("subscription_id", await _stream_ids(world, "pickup", "subscription"))
    victims.add("task_id", await _stream_ids(world, "pickup", "task"))
    victims.add("provider_code", await _stream_ids(world, "pickup", "provider"))
    victims.add("complaint_id", await _stream_ids(world, "aftersales", "complaint"))
    r = await world.http["aftersales"].get("/v1/aftersales/requests", headers=operator)
    r.raise_for_status()
    body = r.json()
    items = body["items"] if isinstance(body, dict) else body
    victims.add("request_id", [i["request_id"] for i in items])
    victims.add("dead_letter_id", ["1"])
    return victims


@pytest.fixture
async def day(infra: Infra) -> AsyncIterator[tuple[World, Victims]]:
    world = await start_world(infra.server_url, infra.bootstrap)
    try:
        truths = await run_day(world, orders=8, seed=11)
        yield world, await harvest(world, truths)
    finally:
        await stop_world(world)


def example(operation: Any) -> Any:
    """The simplest schema-valid request of the operation (deterministic)."""
    return find(
        operation.as_strategy(),
        lambda _: True,
        settings=settings(
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )


def aimed_at(value: Any, victims: Victims) -> Any:
    """`value` (a body or query) with every field that names a resource set to a victim's."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in victims.ids and victims.first(key) is not None:
                out[key] = victims.first(key)
            elif key.endswith("_ids") and key[:-1] in victims.ids:
                out[key] = victims.ids[key[:-1]][:2]
            else:
                out[key] = aimed_at(item, victims)
        return out
    if isinstance(value, list):
        return [aimed_at(v, victims) for v in value]
    return value


@dataclass
class Outcome:
    service: str
    method: str
    path: str
    statuses: dict[str, int]
    findings: list[str]


async def probe(
    client: httpx.AsyncClient, secret: str, service: str, operation: Any, victims: Victims
) -> Outcome:
    method, path = operation.method.upper(), operation.path
    case = example(operation)
    params = {}
    for name in case.path_parameters or {}:
        params[name] = victims.first(name) or str(uuid.uuid4())
    url = path.format(**params)
    query = aimed_at(dict(case.query or {}), victims)
    raw_body = None if isinstance(case.body, NotSet) else case.body
    body = aimed_at(raw_body, victims) if raw_body is not None else None
    aimed = bool(params) or body != raw_body or query != dict(case.query or {})
    sent = {v for v in victims.everything() if v in f"{url} {query} {body}"}
    outcome = Outcome(service, method, path, {}, [])
    for role in ATTACKERS:
        headers = attacker_headers(secret, role)
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if method in ("POST", "PUT", "PATCH") and body is not None:
            kwargs["json"] = body
        client.cookies.clear()  # a dashboard session signed in by an earlier probe
        if path.startswith("/dashboard/") and headers:
            # the dashboard takes a session cookie, signed in with the bearer token
            await client.post("/dashboard/session", headers=headers)
        r = await client.request(method, url, **kwargs)
        if r.status_code == 303 and r.headers.get("location") == "/dashboard/sign-in":
            outcome.statuses[role] = 401  # not signed in: sent to sign in
            continue
        outcome.statuses[role] = r.status_code
        reason = OPEN.get((method, path, role))
        if reason is not None:
            continue
        leaked = sorted(v for v in victims.everything() - sent if v in r.text)
        if r.status_code >= 500:
            outcome.findings.append(f"{role}: {r.status_code} {r.text[:200]}")
        elif 200 <= r.status_code < 300 and (aimed or leaked):
            outcome.findings.append(
                f"{role}: {r.status_code} on another party's resource"
                + (f" (shows {', '.join(leaked[:3])})" if leaked else "")
            )
        elif aimed and r.status_code not in REFUSALS:
            outcome.findings.append(f"{role}: {r.status_code} is no refusal: {r.text[:160]}")
    return outcome


def matrix_table(outcomes: list[Outcome]) -> str:
    lines = [
        "| service | operation | " + " | ".join(ATTACKERS) + " |",
        "|---|---|" + "---:|" * len(ATTACKERS),
    ]
    for o in outcomes:
        cells = " | ".join(str(o.statuses.get(role, "")) for role in ATTACKERS)
        lines.append(f"| {o.service} | `{o.method} {o.path}` | {cells} |")
    return "\n".join(lines) + "\n"


async def test_no_party_reaches_another_partys_resources(day: tuple[World, Victims]) -> None:
    world, victims = day
    assert {"order_id", "package_id", "warehouse_id", "request_id"} <= set(victims.ids)
    outcomes: list[Outcome] = []
    for service in SERVICES:
        client = world.http[service]
        spec = (await client.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(spec)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in PUBLIC:
                continue
            outcomes.append(await probe(client, world.secret, service, operation, victims))
    assert len(outcomes) >= 70
    out = os.environ.get("SHOPFLOW_MATRIX_OUT")
    if out:
        Path(out).write_text(matrix_table(outcomes))  # noqa: ASYNC240 (once, at the end)
    findings = [f"{o.method} {o.path} ({o.service}) {f}" for o in outcomes for f in o.findings]
    assert findings == [], "\n".join(findings)
