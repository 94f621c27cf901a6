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
