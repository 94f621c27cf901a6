"""The launcher's supervisor: it starts PostgreSQL, the broker and the services, restarts one
that exits (after a back-off delay), says when a restarted one is ready again, and stops them
all.

It is single-threaded: the launcher calls `check()` in its loop and nothing happens between
calls, so once the launcher leaves its loop to shut down (Ctrl-C, SIGTERM, `shopflow down`),
nothing is restarted any more.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Process(Protocol):
    """What the supervisor needs of a child: a `subprocess.Popen`, or a wrapper such as the
    embedded PostgreSQL (which `pg_ctl` starts detached)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class Backoff:
    """The delay before a restart: `first_s` doubling at each exit to at most `cap_s`, back to
    `first_s` once the process had stayed up `reset_after_s`."""

    first_s: float = 1.0
    cap_s: float = 30.0
    reset_after_s: float = 60.0

    def next_delay(self, previous_s: float | None, uptime_s: float) -> float:
        if previous_s is None or uptime_s >= self.reset_after_s:
            return self.first_s
        return min(previous_s * 2, self.cap_s)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class _Child:
    start: Callable[[], Process]
    process: Process
    started_at: float
    ready: Callable[[], bool] | None = None
    delay_s: float | None = None  # the last back-off delay
    restart_at: float | None = None  # set while the process is down
    awaiting_ready: bool = False  # restarted, not yet ready


class Supervisor:
    """`log` gets one line per exit and per restart; `on_restart(name, process)` lets the
    launcher record the new process (its PID in the state file)."""

    def __init__(
        self,
        log: Callable[[str], None],
        on_restart: Callable[[str, Process], None],
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._on_restart = on_restart
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._children: dict[str, _Child] = {}

    def start(
        self, name: str, start: Callable[[], Process], ready: Callable[[], bool] | None = None
    ) -> Process:
        """Start a process (`start()` is called again for each restart) and watch it; after a
        restart, `ready()` is asked at each check until it says yes."""
        process = start()
        self._children[name] = _Child(start, process, self._clock(), ready)
        return process

    def process(self, name: str) -> Process:
        return self._children[name].process

    def check(self) -> None:
        """Notice the processes that exited and restart those whose delay has passed."""
        for name, child in self._children.items():
            now = self._clock()
            if child.restart_at is None:
                returncode = child.process.poll()
                if returncode is not None:
                    what = getattr(child.process, "exit_description", None)
                    self._schedule(
                        name, child, now - child.started_at, what or describe_exit(returncode)
                    )
                elif child.awaiting_ready and child.ready is not None and child.ready():
                    child.awaiting_ready = False
                    self._log(f"{name} is ready again, {now - child.started_at:.1f}s after restart")
            elif now >= child.restart_at:
                self._restart(name, child)

    def _schedule(self, name: str, child: _Child, uptime_s: float, what: str) -> None:
        child.delay_s = self._backoff.next_delay(child.delay_s, uptime_s)
        child.restart_at = self._clock() + child.delay_s
        self._log(f"{name} {what}; restarting it in {child.delay_s:g}s")

    def _restart(self, name: str, child: _Child) -> None:
        try:
            process = child.start()
        except Exception as exc:
            self._schedule(name, child, 0.0, f"did not start again ({exc})")
            return
        child.process, child.started_at, child.restart_at = process, self._clock(), None
        child.awaiting_ready = child.ready is not None
        self._log(f"{name} restarted (pid {process.pid})")
        self._on_restart(name, process)

    def stop(self) -> None:
        """Stop every process, the last started first."""
        for child in reversed(self._children.values()):
            terminate(child.process)


def terminate(process: Process, timeout_s: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
