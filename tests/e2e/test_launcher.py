"""`shopflow up` (what `make run` runs): embedded PostgreSQL, Tansu and SMTP server,
migrations, the services; a service or the broker that dies is restarted; Ctrl-C stops
everything; a second start reuses the data; an order's journey mails its seller and buyer and
reaches the seller's webhook."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from shared.auth import mint_token
from shared.embedded import free_port
from shared.mailbox import read, text_of
from shared.settings import DEV_JWT_SECRET
from shared.signatures import verify
from tests.conftest import eventually
from tests.e2e.journeys import keep_profile, lamp_order, lamp_shop, planned_packages

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


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: keeps each request, answers 500 to the first two."""

    requests: list[tuple[dict[str, str], bytes, int]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["content-length"]))
        status = 500 if len(self.requests) < 2 else 200
        self.requests.append(({k.lower(): v for k, v in self.headers.items()}, raw, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def test_up_mails_seller_and_buyer_and_signs_webhooks_retried_after_two_500s(
    launcher_env,
) -> None:
    """On `make run`'s stack: its SMTP server keeps the seller's new order (in Chinese) and the
    buyer's shipment (in English); a receiver started here gets the seller's events signed
    and in order, the first delivery again after it answered 500 twice."""
    ports = {s: free_port() for s in ("fulfillment", "pickup", "aftersales", "analytics")}
    env = {
        **launcher_env,
        **{f"SHOPFLOW_{s.upper()}_PORT": str(p) for s, p in ports.items()},
        "SHOPFLOW_ORDER_REMORSE_WINDOW_MINUTES": "0",
        "SHOPFLOW_WEBHOOK_RETRY_FIRST_S": "0.5",
        "SHOPFLOW_WEBHOOK_RETRY_LONGEST_S": "1",
        "SHOPFLOW_WEBHOOK_INTERVAL_S": "0.2",
        "SHOPFLOW_MAIL_SEND_INTERVAL_S": "0.2",
    }
    Receiver.requests = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    seller = {
        "Authorization": "Bearer "
        + mint_token(DEV_JWT_SECRET, sub="xm-staff", role="seller", seller_id="shop-xm")
    }
    buyer = {"Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, sub="lan", role="buyer")}
    base = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    base["order"] = f"http://127.0.0.1:{env['SHOPFLOW_ORDER_PORT']}"
    mail_dir = Path(env["SHOPFLOW_DATA_DIR"]) / "mail"
    launcher = start(env)
    try:
        wait_up(launcher, env)
        async with httpx.AsyncClient(base_url=base["analytics"]) as analytics:
            r = await analytics.post(
                "/v1/webhooks",
                headers=seller,
                json={
                    "url": f"http://127.0.0.1:{receiver.server_port}/hooks",
                    "events": ["order.status_changed", "package.shipped"],
                },
            )
            assert r.status_code == 201, r.text
            secret = r.json()["secret"]
        async with (
            httpx.AsyncClient(base_url=base["order"]) as orders,
            httpx.AsyncClient(base_url=base["fulfillment"]) as fulfillment,
        ):
            await keep_profile(fulfillment, seller, email="xiaomei@example.cn", language="zh-CN")
            await lamp_shop(orders, fulfillment, seller)
            order = await lamp_order(
                orders, buyer, "shop-xm", buyer_email="lan@example.com", buyer_language="en"
            )
            plan = await planned_packages(fulfillment, seller, order["order_id"], within=90)
            package_id = plan["packages"][0]["package_id"]

            async def shipped() -> dict | None:
                """Hanoi's pickup is pending review (DROP_OFF); until fulfillment hears of the
                new warehouse's subscription it assumes PICKUP and refuses (changing nothing)."""
                r = await fulfillment.post(
                    f"/v1/packages/{package_id}/ship",
                    headers=seller,
                    json={"handover": "DROP_OFF"},
                )
                if r.status_code == 409 and "pickup-active" in r.text:
                    return None
                assert r.status_code == 200, r.text
                body: dict = r.json()
                return body

            tracking_number = (await eventually(shipped, within=60, interval=0.2))[
                "tracking_number"
            ]

        def mails() -> dict[str, EmailMessage] | None:
            kept = {str(m["To"]): m for m in map(read, mail_dir.glob("*.eml"))}
            return kept if len(kept) == 2 else None

        kept = await eventually(mails, within=60)
        to_seller, to_buyer = kept["xiaomei@example.cn"], kept["lan@example.com"]
        assert to_seller["X-Shopflow-Template"] == "new_order"
        assert to_seller["Content-Language"] == "zh" and order["order_id"] in text_of(to_seller)
        assert to_buyer["X-Shopflow-Template"] == "shipped"
        assert to_buyer["Content-Language"] == "en" and tracking_number in text_of(to_buyer)

        def delivered() -> list[dict] | None:
            bodies = [json.loads(raw) for _, raw, status in Receiver.requests if status == 200]
            reached = {b["data"].get("to_status") for b in bodies}
            shipped = any(b["kind"] == "package.shipped" for b in bodies)
            return bodies if shipped and "AWAITING_SHIPMENT" in reached else None

        bodies = await eventually(delivered, within=60)
    finally:
        stop(launcher, env)
        receiver.shutdown()
    first, second, third = Receiver.requests[:3]
    assert [first[2], second[2], third[2]] == [500, 500, 200]
    assert first[0]["x-shopflow-event-id"] == second[0]["x-shopflow-event-id"]
    assert third[0]["x-shopflow-event-id"] == first[0]["x-shopflow-event-id"]
    for headers, raw, _ in Receiver.requests:
        timestamp = headers["x-shopflow-timestamp"]
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        assert verify(
            secret, raw, timestamp, headers["x-shopflow-signature"], now=signed_at, tolerance_s=0
        )
    changes = [b["data"] for b in bodies if b["kind"] == "order.status_changed"]
    assert changes[0]["from_status"] is None
    for before, after in itertools.pairwise(changes):  # in order: each starts where one ended
        assert after["from_status"] == before["to_status"]
    assert {b["seller_id"] for b in bodies} == {"shop-xm"}
