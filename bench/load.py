"""Whole order journeys under load: every service as its own process (one uvicorn worker
each) on one PostgreSQL server and one broker, on real time, driven over the public HTTP APIs
by many journeys at once.

A journey: the buyer orders and pays, fulfillment plans the packages, the seller ships them
(drop-off), the hub receives them, the carrier reports them in transit and delivered, and the
analytics view of the order says DELIVERED (its seller-metric facts are written in the same
transaction). The buyer's remorse window is set to 0 so placement follows payment at once.

Two figures: journeys per second sustained by a closed loop of concurrent journeys, and, at a
fixed offered load (journeys started at a steady rate whether or not earlier ones finished),
the projection lag p50/p99 from the analytics service's `shopflow_projection_lag_seconds`
histogram (an event's occurred_at to the refresh of its order view), read before and after.
Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import budget
from bench.simulation import post_carrier_event, profile
from shared import embedded
from shared.auth import mint_token
from shared.migrations import upgrade
from shared.settings import DEV_CARRIER_SECRET, DEV_JWT_SECRET, SERVICES

SELLER = "load-shop"
ADDRESS = {
    "recipient_name": "Load Buyer",
    "phone": "+1 555 0100",
    "line1": "1 Main St",
    "city": "Portland",
    "postal_code": "97201",
    "country": "US",
}
POLL_S = (0.02, 1.0)  # the first and the longest wait between two polls: polls are load too
JOURNEY_TIMEOUT_S = 60.0
LOG = Path("bench-output") / "services.log"
TARGET_LOAD = 100.0  # journeys/s offered for the lag figure (docs/performance.md)
IDLE_S = float(os.environ.get("SHOPFLOW_BENCH_IDLE_S", "30"))  # the idle stack's CPU
# workers per service of the second, shorter run ("" or "1": none)
WORKERS = int(os.environ.get("SHOPFLOW_BENCH_WORKERS", "2") or "1")
SETTLED_S = 2.0  # a journey this fast ran through every consumer group with no rebalance
SETTLE_WITHIN_S = 180.0


def bearer(
    role: str, sub: str, seller_id: str | None = None, carrier: str | None = None
) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, sub=sub, role=role, seller_id=seller_id, carrier=carrier)
    return {"Authorization": f"Bearer {token}"}


SELLER_H = bearer("seller", "load-staff", seller_id=SELLER)
BUYER_H = bearer("buyer", "load-buyer")
OPERATOR_H = bearer("operator", "load-hub")


@dataclass
class Services:
    urls: dict[str, list[str]] = field(default_factory=dict)  # service -> its workers' URLs
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)  # service -> its database

    @property
    def workers(self) -> int:
        return max((len(p) for p in self.processes.values()), default=0)

    @property
    def pids(self) -> dict[str, int]:
        """Every worker's pid by its name (`budget.worker_name`: `order`, `order#2`, ...)."""
        return {
            budget.worker_name(name, i): process.pid
            for name, processes in self.processes.items()
            for i, process in enumerate(processes)
        }


@contextmanager
def running_services(server_url: str, bootstrap: str, workers: int = 1) -> Iterator[Services]:
    """The five services as processes (`workers` of each, each on its own port) on fresh
    databases and a fresh topic namespace. A service's workers share its database and
    consumer groups; its relay runs in the one holding the leader lock."""
    run = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SHOPFLOW_KAFKA_TOPIC_PREFIX": f"load{run}.",
        "SHOPFLOW_LOG_LEVEL": "WARNING",
        "SHOPFLOW_SCHEDULER_INTERVAL_S": "0.05",
        "SHOPFLOW_RELAY_POLL_INTERVAL_S": "0.2",
        "SHOPFLOW_ORDER_REMORSE_WINDOW_MINUTES": "0",
    }
    services = Services()
    for name in SERVICES:
        database = f"load_{run}_{name}"
        asyncio.run(embedded.create_database(server_url, database))
        url = embedded.database_url(server_url, database)
        upgrade(name, url)
        services.databases[name] = database
        env[f"SHOPFLOW_{name.upper()}_DATABASE_URL"] = url
        services.urls[name] = []
        services.processes[name] = []
    LOG.parent.mkdir(exist_ok=True)
    log = LOG.open("ab")  # cancelled journeys at the end of a run show as client disconnects
    started: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        for name in SERVICES:
            for _ in range(workers):
                port = embedded.free_port()
                process = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    env={**env, f"SHOPFLOW_{name.upper()}_PORT": str(port)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                services.processes[name].append(process)
                services.urls[name].append(f"http://127.0.0.1:{port}")
                started.append((process, port))
        for process, port in started:
            embedded.wait_for_port("127.0.0.1", port, process)
        yield services
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


class Driver:
    def __init__(self, services: Services, client: httpx.AsyncClient) -> None:
        self.urls = services.urls
        self.client = client
        self._turn = dict.fromkeys(services.urls, 0)

    def url(self, service: str) -> str:
        """The next of the service's workers, in turn."""
        urls = self.urls[service]
        self._turn[service] += 1
        return urls[self._turn[service] % len(urls)]

    async def call(
        self, service: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> Any:
        """The request, again (at most 5 times) while it answers that a concurrent write won
        (409 concurrent-update: the API asks to retry; journeys of one seller share its
        stock)."""
        for _ in range(5):
            r = await self.client.request(
                method, self.url(service) + path, headers=headers, json=body
            )
            if r.status_code != 409 or "concurrent-update" not in r.text:
                break
        if r.status_code >= 300:
            raise RuntimeError(f"{method} {service}{path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    async def until(self, what: str, check: Any) -> Any:
        """Poll until `check` gives something truthy, backing off, within the time limit."""
        deadline = time.perf_counter() + JOURNEY_TIMEOUT_S
        wait = POLL_S[0]
        while time.perf_counter() < deadline:
            result = await check()
            if result:
                return result
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, POLL_S[1])
        raise TimeoutError(what)

    async def set_up(self) -> None:
        """One seller (drop-off warehouse outside pickup coverage) with a product in stock."""
        product = {"sku": "LOAD", "title": "Load", "weight_g": 300}
        price = {"amount": 1000, "currency": "USD"}
        await self.call("order", "POST", "/v1/products", SELLER_H, {**product, "price": price})
        warehouse = await self.call(
            "fulfillment",
            "POST",
            "/v1/warehouses",
            SELLER_H,
            {
                "name": "Load depot",
                "address": {**ADDRESS, "line1": "9 Depot Rd"},
                "contact": {"name": "Sam", "phone": "+1 555 0199"},
            },
        )
        await self.call(
            "fulfillment",
            "PUT",
            f"/v1/warehouses/{warehouse['warehouse_id']}/stock/LOAD",
            SELLER_H,
            {"on_hand": 1_000_000},
        )
        await self.call(  # the label's sender: no profile, no label
            "fulfillment", "PUT", f"/v1/sellers/{SELLER}/profile", SELLER_H, profile(SELLER)
        )

    async def journey(self) -> float:
        """One whole journey; returns its duration in seconds."""
        started = time.perf_counter()
        order = await self.call(
            "order",
            "POST",
            "/v1/orders",
            BUYER_H,
            {
                "seller_id": SELLER,
                "items": [{"sku": "LOAD", "quantity": 1}],
                "shipping_address": ADDRESS,
                "payment_method": "CARD",
            },
        )
        oid = order["order_id"]
        await self.call(
            "order",
            "POST",
            f"/v1/orders/{oid}/payments",
            BUYER_H,
            {"amount": order["total"], "transaction_id": f"load-{oid}"},
        )

        async def planned() -> Any:
            r = await self.client.get(
                f"{self.url('fulfillment')}/v1/orders/{oid}/packages", headers=SELLER_H
            )
            return r.json() if r.status_code == 200 and r.json()["status"] == "PLANNED" else None

        plan = await self.until(f"packages of {oid}", planned)
        for package in plan["packages"]:
            pid = package["package_id"]
            shipped = await self.call(
                "fulfillment",
                "POST",
                f"/v1/packages/{pid}/ship",
                SELLER_H,
                {"handover": "DROP_OFF"},
            )

            async def dropped(pid: str = pid) -> bool:
                r = await self.client.post(
                    f"{self.url('pickup')}/v1/packages/{pid}/drop-off", headers=OPERATOR_H
                )
                return r.status_code == 200

            await self.until(f"drop-off of {pid}", dropped)
            for status in ("IN_TRANSIT", "DELIVERED"):
                await post_carrier_event(
                    self.client,
                    f"{self.url('fulfillment')}/v1/carrier-events",
                    DEV_JWT_SECRET,
                    DEV_CARRIER_SECRET,
                    shipped["carrier"],
                    shipped["tracking_number"],
                    status,
                    datetime.now(UTC),
                )

        async def visible() -> bool:
            r = await self.client.get(
                f"{self.url('analytics')}/v1/order-views/{oid}", headers=OPERATOR_H
            )
            return r.status_code == 200 and r.json()["status"] == "DELIVERED"

        await self.until(f"view of {oid}", visible)
        return time.perf_counter() - started

    async def counters(self) -> dict[str, float]:
        """The services' counters behind the budget, summed over the services and their
        workers (each process counts its own): HTTP
        requests, consumed events by outcome (applied, skipped), events relayed."""
        found: dict[str, float] = {}
        names = {
            "shopflow_http_requests_total": "http_requests",
            "shopflow_relay_published_total": "events_relayed",
        }
        for url in (u for urls in self.urls.values() for u in urls):
            r = await self.client.get(f"{url}/metrics", headers=OPERATOR_H)
            for family in text_string_to_metric_families(r.text):
                for sample in family.samples:
                    if sample.name == "shopflow_consumer_events_total":
                        key = f"events_{sample.labels['outcome']}"
                    elif sample.name in names:
                        key = names[sample.name]
                    else:
                        continue
                    found[key] = found.get(key, 0.0) + sample.value
        return found

    async def lag_buckets(self) -> dict[float, float]:
        """The projection-lag histogram's cumulative bucket counts, by upper bound, summed
        over the analytics workers (each process observes its own)."""
        buckets: dict[float, float] = {}
        for url in self.urls["analytics"]:
            r = await self.client.get(f"{url}/metrics", headers=OPERATOR_H)
            for family in text_string_to_metric_families(r.text):
                if family.name == "shopflow_projection_lag_seconds":
                    for sample in family.samples:
                        if sample.name.endswith("_bucket"):
                            bound = float(sample.labels["le"])
                            buckets[bound] = buckets.get(bound, 0.0) + sample.value
        return buckets


def _cpu_of(pid: int, with_children: bool = False) -> float:
    """utime + stime of `pid` from /proc; with its children: the reaped ones (cutime +
    cstime) and the living ones (PostgreSQL's backends)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            return ticks / tick + sum(_cpu_of(int(c)) for c in children.read_text().split())
    return ticks / tick


def cpu_seconds(services: Services, infra: Mapping[str, int] | None = None) -> dict[str, float]:
    """CPU time so far of each service (the sum over its workers), of this driver, of
    PostgreSQL (its postmaster and backends) and the broker when their pids are given
    (`infra`), and of the whole machine, from /proc."""
    times: dict[str, float] = {}
    for name, pid in services.pids.items():
        service = budget.service_of(name)
        times[service] = times.get(service, 0.0) + _cpu_of(pid)
    times["load_driver"] = _cpu_of(os.getpid())
    for name, pid in (infra or {}).items():
        times[name] = _cpu_of(pid, with_children=True)
    tick = os.sysconf("SC_CLK_TCK")
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    times["machine"] = (sum(int(v) for v in busy) - int(busy[3]) - int(busy[4])) / tick
    return times


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float:
    """The q-quantile of the observations between two readings of a cumulative histogram,
    interpolated linearly inside its bucket (as Prometheus' histogram_quantile)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return float("nan")
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return bounds[-1]


async def closed_loop(driver: Driver, workers: int, max_journeys: int, max_s: float) -> int:
    """Journeys done with `workers` journeys always in flight, at most `max_journeys`, for
    at most `max_s` seconds."""
    done = 0
    stop_at = time.perf_counter() + max_s

    async def worker() -> None:
        nonlocal done
        while done < max_journeys and time.perf_counter() < stop_at:
            await driver.journey()
            done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return done


async def settle(driver: Driver) -> float:
    """Warm-up journeys until three in a row each take under `SETTLED_S` (a consumer group
    rebalancing as its members join stalls a journey for seconds), for at most
    `SETTLE_WITHIN_S`; the seconds it took."""
    started = time.perf_counter()
    fast = 0
    while fast < 3 and time.perf_counter() - started < SETTLE_WITHIN_S:
        fast = fast + 1 if await driver.journey() < SETTLED_S else 0
    return time.perf_counter() - started


async def offered_load(
    driver: Driver, per_s: float, seconds: float, drain_s: float
) -> dict[str, float]:
    """Start journeys at `per_s` for `seconds` whatever happens to them; then wait up to
    `drain_s` for them. Lag percentiles over the events applied meanwhile."""
    before = await driver.lag_buckets()
    started = time.perf_counter()
    tasks: list[asyncio.Task[float]] = []
    n = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        while n < per_s * elapsed:
            tasks.append(asyncio.create_task(driver.journey()))
            n += 1
        await asyncio.sleep(0.005)
    finished, pending = await asyncio.wait(tasks, timeout=drain_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - started
    ok = [t for t in finished if t.exception() is None]
    after = await driver.lag_buckets()
    return {
        "offered_journeys_per_s": n / seconds,
        "completed_at_offered_load_per_s": len(ok) / elapsed,
        "projection_lag_p50_ms": 1000 * quantile(0.5, before, after),
        "projection_lag_p99_ms": 1000 * quantile(0.99, before, after),
    }


async def idle_cost(
    services: Services, seconds: float, infra: Mapping[str, int]
) -> dict[str, float]:
    """CPU milliseconds per second of each process, and of the machine, while nothing
    happens for `seconds` (timers, polls, heartbeats)."""
    before = cpu_seconds(services, infra)
    await asyncio.sleep(seconds)
    after = cpu_seconds(services, infra)
    idle = {f"idle_cpu_ms_per_s_{k}": 1000 * (after[k] - before[k]) / seconds for k in after}
    idle["idle_cpu_ms_per_s_ours"] = sum(
        v for k, v in idle.items() if k.removeprefix("idle_cpu_ms_per_s_") in services.urls
    )
    return idle


async def counts(driver: Driver, server_url: str, services: Services) -> dict[str, float]:
    return {
        **await driver.counters(),
        **await budget.database_counts(server_url, services.databases),
    }


async def drive(services: Services, server_url: str, infra: Mapping[str, int]) -> dict[str, float]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        driver = Driver(services, client)
        await driver.set_up()
        await settle(driver)
        idle_from = await counts(driver, server_url, services)
        figures = await idle_cost(services, IDLE_S, infra)
        counts_before = await counts(driver, server_url, services)
        for k, v in counts_before.items():  # what the idle stack does: polls, timers
            figures[f"idle_{k}_per_s"] = (v - idle_from.get(k, 0.0)) / IDLE_S
        sampler = budget.Sampler(
            {**services.pids, "load_driver": os.getpid()}, LOG.parent / "py-spy"
        )
        sampler.start()
        cpu_before = cpu_seconds(services, infra)
        profiler_before = sum(_cpu_of(p) for p in sampler.pids_running)
        started = time.perf_counter()
        journeys = await closed_loop(driver, 16, 2_000, 20.0)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(services, infra)
        profiler = sum(_cpu_of(p) for p in sampler.pids_running) - profiler_before
        samples = sampler.stop()
        counts_after = await counts(driver, server_url, services)
        figures["journeys_per_s"] = journeys / elapsed
        cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
        cpu["profiler"] = profiler
        for name, seconds in cpu.items():
            figures[f"cpu_cores_{name}"] = seconds / elapsed
        increase = {k: counts_after[k] - counts_before.get(k, 0.0) for k in counts_after}
        figures.update(budget.figures(journeys, cpu, samples, increase))
        figures["sampled"] = float(bool(samples))
        figures.update(await offered_load(driver, TARGET_LOAD, 5.0, 45.0))
        # and at half of what this machine sustains, to see the lag of a loaded, not
        # overloaded, system
        half = await offered_load(driver, max(figures["journeys_per_s"] / 2, 0.5), 10.0, 45.0)
        figures.update({f"{k}_at_half_load": v for k, v in half.items()})
        return figures


async def drive_workers(services: Services, infra: Mapping[str, int]) -> dict[str, float]:
    """The closed loop alone (no profiler) with several workers per service: journeys per
    second and cores busy, as `<figure>_workers_<n>`."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        driver = Driver(services, client)
        await driver.set_up()
        settled_s = await settle(driver)
        cpu_before = cpu_seconds(services, infra)
        started = time.perf_counter()
        journeys = await closed_loop(driver, 16, 2_000, 20.0)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(services, infra)
    n = services.workers
    figures = {
        f"journeys_per_s_workers_{n}": journeys / elapsed,
        f"settle_s_workers_{n}": settled_s,
    }
    for name in cpu_after:
        figures[f"cpu_cores_{name}_workers_{n}"] = (cpu_after[name] - cpu_before[name]) / elapsed
    return figures


def load_figures(
    server_url: str, bootstrap: str, infra: Mapping[str, int] | None = None
) -> dict[str, float]:
    """The full measurement with one worker per service; then, with `WORKERS` of each on
    fresh databases, the closed loop's rate and cores."""
    with running_services(server_url, bootstrap) as services:
        figures = asyncio.run(drive(services, server_url, infra or {}))
    if WORKERS > 1:
        with running_services(server_url, bootstrap, WORKERS) as services:
            figures.update(asyncio.run(drive_workers(services, infra or {})))
    return figures
