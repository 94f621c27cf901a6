"""Schemathesis fuzzes every operation of each service from its own OpenAPI, as every role
(buyer, seller, operator, driver and carrier, each with its claims), with the path, query,
header (Idempotency-Key, the carrier's signature headers) and body parameters generated:
whatever the input, the answer is never a 5xx.

Each service runs as its own process (`python -m services.<name>`), as `make run` starts it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from shared.auth import mint_token
from shared.embedded import free_port, wait_for_port
from tests.conftest import Infra, fresh_database

SECRET = "fuzz-secret-0123456789abcdef0123456789"


@pytest.fixture(
    scope="module", params=["order", "fulfillment", "pickup", "aftersales", "analytics"]
)
def service_process(request: pytest.FixtureRequest, infra: Infra) -> Iterator[str]:
    name = request.param
    with ThreadPoolExecutor(1) as pool:  # its own event loop, off the test loop
        url = pool.submit(asyncio.run, fresh_database(infra, name)).result()
    port = free_port()
    env = {
        **os.environ,
        f"SHOPFLOW_{name.upper()}_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        f"SHOPFLOW_{name.upper()}_PORT": str(port),
        "SHOPFLOW_JWT_SECRET": SECRET,
        "SHOPFLOW_KAFKA_TOPIC_PREFIX": f"fuzz{port}.",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, process)  # type: ignore[arg-type]
        base = f"http://127.0.0.1:{port}"
        token = mint_token(SECRET, sub="shop-1", role="seller", seller_id="shop-1")
        seller = {"Authorization": f"Bearer {token}"}
        if name == "order":  # something to find
            product = {"sku": "TEE-1", "title": "T", "weight_g": 1}
            price = {"amount": 100, "currency": "USD"}
            httpx.post(
                f"{base}/v1/products", headers=seller, json={**product, "price": price}
            ).raise_for_status()
        yield base
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture(scope="module")
def service_schema(service_process: str):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_url(f"{service_process}/openapi.json")


def test_no_input_makes_a_server_error(service_process: str, service_schema) -> None:  # type: ignore[no-untyped-def]
    claims: dict[str, dict[str, str]] = {
        "buyer": {},
        "seller": {"seller_id": "shop-1"},
        "operator": {},
        "driver": {"provider": "SPX"},
        "carrier": {"carrier": "SPX"},
    }
    tokens = [
        {"Authorization": "Bearer " + mint_token(SECRET, sub=f"{role}-1", role=role, **extra)}
        for role, extra in claims.items()
    ]
    operations = [result.ok() for result in service_schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            for headers in tokens:
                case.call_and_validate(
                    base_url=service_process, headers=headers, checks=[not_a_server_error]
                )

        fuzz()

    operator = mint_token(SECRET, sub="operator-1", role="operator")
    metrics = httpx.get(
        f"{service_process}/metrics", headers={"Authorization": f"Bearer {operator}"}
    ).text
    served = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("shopflow_http_requests_total{")
    )
    assert served > 3 * len(operations)  # the fuzzing really reached the service
