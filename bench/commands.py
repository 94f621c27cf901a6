"""The `shopflow` commands of the tools in bench/, added through the `shopflow.commands` entry
points (the platform's CLI never imports bench/). Each imports its tool only when run."""

from __future__ import annotations

import typer


def simulate(
    orders: int = typer.Option(200, min=1, max=5000, help="how many orders to drive"),
    seed: int = typer.Option(1, help="the random mix; the same seed gives the same run"),
) -> None:
    """Drive a simulated marketplace day through every service's public API on accelerated
    time, then check order statuses and seller metrics against what the simulator did."""
    from bench.simulation import run_standalone

    if not run_standalone(orders, seed):
        raise typer.Exit(1)


def chaos(
    orders: int = typer.Option(
        250, min=1, max=5000, help="how many orders (250 keep most faults within the day)"
    ),
    seed: int = typer.Option(1, help="the random mix and the fault schedule"),
    faults: str = typer.Option(
        "all",
        help="none, all, or kinds separated by commas: kill, postgres, broker-kill, "
        "broker-freeze, service-down",
    ),
    keep: bool = typer.Option(False, help="keep the run's folder (service logs) even if it passes"),
    timeout: float = typer.Option(1800, help="seconds the whole run may take"),
) -> None:
    """The simulated marketplace against every service run as two replica processes, while
    faults are injected (replicas killed, PostgreSQL crashed, the broker killed or frozen, a
    service kept down); then the record's checks, no dead letters, relays caught up, stock
    conserved, nothing lost and nothing applied twice."""
    from bench.chaos import parse_faults, run

    try:
        parse_faults(faults)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not run(orders, seed, faults, keep=keep, timeout_s=timeout):
        raise typer.Exit(1)
