"""`make bench`: the figures of docs/performance.md on a throwaway embedded stack (PostgreSQL
18 + Tansu), each the median of several runs with its spread, written as JSON, a markdown
report and a PNG chart under bench-output/ (git-ignored). Nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import budget, load, measures
from shared import embedded
from shared.settings import SERVICES

console = Console()
OUT = Path("bench-output")
RUNS = int(os.environ.get("SHOPFLOW_BENCH_RUNS", "3"))


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


# What a run measures: SHOPFLOW_BENCH_ONLY=load (or store,stock,http,projection) for a part.
PARTS = ("store", "stock", "http", "projection", "load")
ONLY = [p for p in os.environ.get("SHOPFLOW_BENCH_ONLY", ",".join(PARTS)).split(",") if p]


async def one_run(server: str, bootstrap: str, infra: dict[str, int]) -> dict[str, float]:
    figures: dict[str, float] = {}
    await measures.settle(server)
    if "store" in ONLY:
        console.print("  event store")
        figures.update(await measures.store_rates(server))
        url = await measures.fresh_db(server, None)
        figures.update(await asyncio.to_thread(measures.eventsourcing_rates, server, url))
    if "stock" in ONLY:
        console.print("  a busy seller's stock")
        figures.update(await measures.stock_figures(server))
    if "http" in ONLY:
        console.print("  HTTP")
        figures.update(await measures.http_figures(server, bootstrap))
    if "projection" in ONLY:
        console.print("  projection")
        figures.update(await measures.projection_figures(server))
    if "load" in ONLY:
        console.print("  journeys under load, their CPU budget, the idle stack")
        figures.update(await asyncio.to_thread(load.load_figures, server, bootstrap, infra))
    return figures


def report(summary: dict[str, dict[str, Any]]) -> str:
    def med(k: str) -> float:
        return float(summary[k]["median"])

    lines = [
        "# shopflow benchmark report",
        "",
        f"Machine: {machine()}. Runs: {RUNS}; each figure is the median, with min-max.",
        "",
        "| figure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    for k, v in summary.items():
        lines.append(f"| {k} | {v['median']:,.1f} | {v['min']:,.1f} | {v['max']:,.1f} |")
    if {"append_8", "eventsourcing_8", "raw_insert_8", "append_1"} <= summary.keys():
        lines += [
            "",
            "Ratios (same run, same server):",
            f"- shopflow append, 8 writers / eventsourcing library, 8 threads: "
            f"{med('append_8') / med('eventsourcing_8'):.2f} (target >= 8)",
            f"- shopflow append, 8 writers / raw asyncpg INSERT, 8 connections: "
            f"{med('append_8') / med('raw_insert_8'):.2f} (target >= 0.6)",
            f"- shopflow append, 1 writer / eventsourcing, 1 thread: "
            f"{med('append_1') / med('eventsourcing_1'):.2f}",
        ]
    if "journeys_per_s" in summary:
        lines += [
            "",
            "Against the targets:",
            f"- CPU per journey: {med('journey_cpu_ms_total'):,.1f} ms (target <= 30)",
            f"- journeys per second: {med('journeys_per_s'):,.1f} (target >= 60; then 300)",
            f"- projection lag p99 at {med('offered_journeys_per_s'):.0f} journeys/s offered: "
            f"{med('projection_lag_p99_ms'):,.0f} ms (the machine completed "
            f"{med('completed_at_offered_load_per_s'):.1f}/s of them)",
            f"- projection lag at half the sustained rate: p50 "
            f"{med('projection_lag_p50_ms_at_half_load'):,.0f} ms, p99 "
            f"{med('projection_lag_p99_ms_at_half_load'):,.0f} ms (target p99 < 250 ms)",
            "",
            "CPU budget of a journey (ms of CPU per journey, by process and mechanism; "
            + ("py-spy samples" if med("sampled") else "py-spy missing: not split")
            + "):",
            "",
            *budget.table(summary, SERVICES),
            "",
            "Per journey: "
            + ", ".join(
                f"{k.removeprefix('per_journey_')} {med(k):.1f}"
                for k in summary
                if k.startswith("per_journey_")
            ),
            "",
            "Idle (nothing happening), CPU ms per second: "
            + ", ".join(
                f"{k.removeprefix('idle_cpu_ms_per_s_')} {med(k):.1f}"
                for k in summary
                if k.startswith("idle_cpu_ms_per_s_")
            )
            + "; per second: "
            + ", ".join(
                f"{k.removeprefix('idle_').removesuffix('_per_s')} {med(k):.1f}"
                for k in summary
                if k.startswith("idle_") and not k.startswith("idle_cpu") and k.endswith("_per_s")
            ),
            "",
            "Cores busy while journeys ran at the sustained rate (of "
            f"{os.cpu_count()}): "
            + ", ".join(
                f"{k.removeprefix('cpu_cores_')} {med(k):.2f}"
                for k in summary
                if k.startswith("cpu_cores_") and "_workers_" not in k
            ),
        ]
        for k in summary:  # the same closed loop with more workers per service
            if k.startswith("journeys_per_s_workers_"):
                n = k.removeprefix("journeys_per_s_workers_")
                lines += [
                    "",
                    f"Journeys/s, 1 worker vs {n} workers per service: "
                    f"{med('journeys_per_s'):,.1f} vs {med(k):,.1f}; the machine's cores busy "
                    f"(of {os.cpu_count()}): {med('cpu_cores_machine'):.2f} vs "
                    f"{med(f'cpu_cores_machine_workers_{n}'):.2f} (the {n}-worker run: no "
                    f"profiler, groups settled in {med(f'settle_s_workers_{n}'):.0f} s). "
                    f"Cores by process with {n} workers: "
                    + ", ".join(
                        f"{c.removeprefix('cpu_cores_').removesuffix(f'_workers_{n}')} {med(c):.2f}"
                        for c in summary
                        if c.startswith("cpu_cores_") and c.endswith(f"_workers_{n}")
                    ),
                ]
    if "projection_apply_per_s" in summary:
        lines.append(
            f"- projection apply: {med('projection_apply_per_s'):,.0f} events/s "
            f"(target >= 30,000); rebuild: {med('rebuild_events_per_s'):,.0f} events/s "
            "(target >= 100,000)"
        )
    if "stock_reserve_first_100_ms" in summary:
        lines.append(
            f"- a busy seller's stock reservation: {med('stock_reserve_first_100_ms'):.1f} ms "
            f"over the first 100 orders, {med('stock_reserve_last_100_ms'):.1f} ms at "
            f"{med('stock_orders_reached'):,.0f} orders (loaded from its snapshot)"
        )
    lines += ["", "See docs/performance.md for the method and what limits each figure."]
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = {
        k: v
        for k, v in summary.items()
        if "_ms" not in k
        and not k.startswith(("cpu_", "per_journey_", "idle_", "sampled"))
        and not k.endswith(("_matched", "_reached"))
    }
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = list(rates)
    medians = [rates[k]["median"] for k in names]
    errors = [
        [m - rates[k]["min"] for k, m in zip(names, medians, strict=True)],
        [rates[k]["max"] - m for k, m in zip(names, medians, strict=True)],
    ]
    ax.barh(names, medians, xerr=errors, color="#3867d6")
    ax.set_xscale("log")
    ax.set_xlabel("per second (median, min-max), log scale")
    ax.set_title(f"shopflow benchmarks · {machine()}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(summary: dict[str, dict[str, Any]]) -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(
        json.dumps({"machine": machine(), "runs": RUNS, "figures": summary}, indent=2)
    )
    (OUT / "report.md").write_text(report(summary))
    chart(summary, OUT / "chart.png")


async def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    tansu = None
    try:
        server = embedded.start_postgres(workdir / "pg")
        await budget.enable_statements(server, workdir / "pg")
        port = embedded.free_port()
        tansu = embedded.start_tansu(port, workdir / "tansu.log")
        runs = []
        for n in range(RUNS):
            console.print(f"[bold]run {n + 1} of {RUNS}[/]")
            infra = {"postgres": embedded.postmaster_pid(workdir / "pg") or 0, "broker": tansu.pid}
            runs.append(await one_run(server, f"127.0.0.1:{port}", infra))
        summary = measures.median_and_spread(runs)
        await asyncio.to_thread(write_outputs, summary)
        table = Table(title=f"shopflow benchmarks ({machine()})")
        for column in ("figure", "median", "min", "max"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for k, v in summary.items():
            table.add_row(k, f"{v['median']:,.1f}", f"{v['min']:,.1f}", f"{v['max']:,.1f}")
        console.print(table)
        console.print(report(summary))
        console.print(f"written: {OUT}/results.json, report.md, chart.png")
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(10)
        embedded.stop_postgres(workdir / "pg")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())  # the event loop the services run on (uvicorn picks uvloop)
