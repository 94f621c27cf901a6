"""A short seeded chaos run (bench/chaos.py): the simulated day against two replica processes
of every service while faults are injected; the record must match, nothing lost, nothing
applied twice.

It starts its own PostgreSQL, broker and ten service processes and takes a few minutes.
SHOPFLOW_CHAOS_FAULTS picks the fault kinds (default: every kind, each at least once)."""

from __future__ import annotations

import os

from rich.console import Console

from bench.chaos import run

FAULTS = os.environ.get("SHOPFLOW_CHAOS_FAULTS", "all")


def test_a_short_chaos_run_loses_nothing_and_applies_nothing_twice() -> None:
    console = Console(width=120, force_terminal=False)
    assert run(orders=30, seed=3, faults=FAULTS, timeout_s=480, console=console)
