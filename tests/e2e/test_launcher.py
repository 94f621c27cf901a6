"""`shopflow up` (what `make run` runs): embedded PostgreSQL and Tansu, migrations, the
services; Ctrl-C stops everything; a second start reuses the data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.auth import mint_token
from shared.embedded import free_port
from shared.settings import DEV_JWT_SECRET

ADDRESS = {
    "recipient_name": "Ann Lee",
    "phone": "+1 555 0100",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


@pytest.fixture
def launcher_env() -> Iterator[dict[str, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="sf-up-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS") and not k.startswith("SHOPFLOW_")
    }
    env.update(
        SHOPFLOW_DATA_DIR=str(workdir / "data"),
        SHOPFLOW_EMBEDDED_KAFKA_PORT=str(free_port()),
        SHOPFLOW_ORDER_PORT=str(free_port()),
    )
    yield env
    subprocess.run([sys.executable, "-m", "shared.cli", "down"], env=env, check=False)


def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_ready(process: subprocess.Popen[bytes], base: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the system did not become ready")


def stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


def test_up_serves_the_order_service_and_a_restart_keeps_the_data(launcher_env) -> None:
    base = f"http://127.0.0.1:{launcher_env['SHOPFLOW_ORDER_PORT']}"
    seller = {"Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, sub="shop-1", role="seller")}
    buyer = {"Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, sub="b-1", role="buyer")}

    first = start(launcher_env)
    try:
        wait_ready(first, base)
        product = {"sku": "TEE-1", "title": "T", "price": {"amount": 100, "currency": "USD"}}
        httpx.post(f"{base}/v1/products", headers=seller, json={**product, "weight_g": 1})
        order = httpx.post(
            f"{base}/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-1",
                "items": [{"sku": "TEE-1", "quantity": 1}],
                "shipping_address": ADDRESS,
                "payment_method": "CARD",
            },
        ).json()
        status = subprocess.run(
            [sys.executable, "-m", "shared.cli", "status"],
            env=launcher_env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "order" in status.stdout and "'status': 'ok'" in status.stdout
    finally:
        output = stop(first)
    assert first.returncode == 0, output
    assert "order ready" in output and "stopped" in output
    assert not (Path(launcher_env["SHOPFLOW_DATA_DIR"]) / "pgdata" / "postmaster.pid").exists()

    second = start(launcher_env)
    try:
        wait_ready(second, base)
        again = httpx.get(f"{base}/v1/orders/{order['order_id']}", headers=buyer)
        assert again.status_code == 200 and again.json()["total"] == order["total"]
    finally:
        stop(second)
