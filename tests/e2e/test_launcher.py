"""`shopflow up` (what `make run` runs): embedded PostgreSQL and Tansu, migrations, the
services; a service or the broker that dies is restarted; Ctrl-C stops everything; a second
start reuses the data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
        SHOPFLOW_EMBEDDED_SMTP_PORT=str(free_port()),
        SHOPFLOW_ORDER_PORT=str(free_port()),
    )
    yield env
    subprocess.run([sys.executable, "-m", "shared.cli", "down"], env=env, check=False)


def _output_file(env: dict[str, str]) -> Path:
    return Path(env["SHOPFLOW_DATA_DIR"]).parent / "launcher.out"


def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The launcher's output goes to a file (a pipe nobody reads while it runs would fill)."""
    with _output_file(env).open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def launcher_output(env: dict[str, str]) -> str:
    return _output_file(env).read_text(errors="replace")


def poll_until(
    done: Callable[[], bool],
    process: subprocess.Popen[bytes],
    env: dict[str, str],
    within: float = 90,
) -> None:
    """Until `done()`, while the launcher runs (else fail with its output)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, launcher_output(env)
        if done():
            return
        time.sleep(0.2)
    raise AssertionError(f"not done within {within}s; the launcher said:\n{launcher_output(env)}")


def is_ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(process: subprocess.Popen[bytes], env: dict[str, str], base: str) -> None:
    poll_until(lambda: is_ready(base), process, env)


def wait_up(process: subprocess.Popen[bytes], env: dict[str, str]) -> None:
    """Until the launcher says every service is ready (it supervises them from then on)."""
    poll_until(lambda: "shopflow is up." in launcher_output(env), process, env)


def stop(process: subprocess.Popen[bytes], env: dict[str, str]) -> str:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    return launcher_output(env)


def test_up_serves_the_order_service_and_a_restart_keeps_the_data(launcher_env) -> None:
    base = f"http://127.0.0.1:{launcher_env['SHOPFLOW_ORDER_PORT']}"
    seller = {
        "Authorization": "Bearer "
        + mint_token(DEV_JWT_SECRET, sub="shop-1", role="seller", seller_id="shop-1")
    }
    buyer = {"Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, sub="b-1", role="buyer")}

    first = start(launcher_env)
    try:
        wait_ready(first, launcher_env, base)
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
        output = stop(first, launcher_env)
    assert first.returncode == 0, output
    assert "order ready" in output and "stopped" in output
    assert not (Path(launcher_env["SHOPFLOW_DATA_DIR"]) / "pgdata" / "postmaster.pid").exists()

    second = start(launcher_env)
    try:
        wait_ready(second, launcher_env, base)
        again = httpx.get(f"{base}/v1/orders/{order['order_id']}", headers=buyer)
        assert again.status_code == 200 and again.json()["total"] == order["total"]
    finally:
        stop(second, launcher_env)


def running(env: dict[str, str]) -> dict:
    """The launcher's state file: its PID, each service's PID and port, Tansu's PID."""
    return json.loads((Path(env["SHOPFLOW_DATA_DIR"]) / "run" / "state.json").read_text())


def accepts_connections(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_restarts_a_service_the_broker_and_postgres_that_die(launcher_env) -> None:
    base = f"http://127.0.0.1:{launcher_env['SHOPFLOW_ORDER_PORT']}"
    kafka_port = int(launcher_env["SHOPFLOW_EMBEDDED_KAFKA_PORT"])
    launcher = start(launcher_env)
    try:
        wait_up(launcher, launcher_env)

        order_pid = running(launcher_env)["services"]["order"]["pid"]
        os.kill(order_pid, signal.SIGKILL)
        poll_until(
            lambda: (
                running(launcher_env)["services"]["order"]["pid"] != order_pid and is_ready(base)
            ),
            launcher,
            launcher_env,
            within=60,
        )

        tansu_pid = running(launcher_env)["tansu"]
        os.kill(tansu_pid, signal.SIGKILL)
        poll_until(
            lambda: running(launcher_env)["tansu"] != tansu_pid and accepts_connections(kafka_port),
            launcher,
            launcher_env,
            within=60,
        )

        postgres_pid = running(launcher_env)["postgres"]
        os.kill(postgres_pid, signal.SIGKILL)
        poll_until(
            lambda: running(launcher_env)["postgres"] != postgres_pid,
            launcher,
            launcher_env,
            within=60,
        )
        seller = {
            "Authorization": "Bearer "
            + mint_token(DEV_JWT_SECRET, sub="shop-9", role="seller", seller_id="shop-9")
        }
        product = {"sku": "MUG-1", "title": "Mug", "price": {"amount": 900, "currency": "USD"}}

        def accepts_a_product() -> bool:
            try:
                r = httpx.post(
                    f"{base}/v1/products",
                    headers={**seller, "Idempotency-Key": "after-postgres-restart"},
                    json={**product, "weight_g": 300},
                    timeout=5,
                )
            except httpx.HTTPError:
                return False
            return r.status_code in (200, 201)

        poll_until(accepts_a_product, launcher, launcher_env, within=60)
        poll_until(
            lambda: "order is ready again" in launcher_output(launcher_env), launcher, launcher_env
        )
    finally:
        out = stop(launcher, launcher_env)
    assert launcher.returncode == 0, out
    assert "order was killed by SIGKILL; restarting it in 1s" in out
    assert "order restarted (pid" in out
    assert "tansu was killed by SIGKILL; restarting it in 1s" in out
    assert "tansu restarted (pid" in out
    assert "postgres stopped (its postmaster is gone); restarting it in 1s" in out
    assert "postgres restarted (pid" in out
    assert "stopped" in out
