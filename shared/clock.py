"""One clock abstraction: real time in production, simulated (settable, accelerated) in
tests and demos. Domain code never reads a clock; time comes in with the command.

A simulated clock lives in one process; a `FileClock` is the same clock shared by several
processes (a simulator and services it started): its state is a small file that the process
moving it writes atomically and every other process re-reads when the file's mtime changes."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Starts at `start` and runs `speed` times faster than real time; `advance` jumps."""

    def __init__(self, start: datetime | None = None, speed: float = 0.0) -> None:
        self._start = start or datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        self._speed = speed
        self._origin = time.monotonic()
        self._offset = timedelta()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + self._offset + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta) -> datetime:
        self._offset += delta
        return self.now()

    def set(self, moment: datetime) -> None:
        self._offset += moment - self.now()


class FileClock(SimulatedClock):
    """A simulated clock whose state (start, offset, speed, and the wall time its speed
    counts from) lives in `path`, so that processes share it.

    `FileClock.create(path, start, speed)` writes the first state; any process then opens
    it with `FileClock(path)`. `now()` costs a `stat` of the file: the state is read again
    only when its mtime changed. `advance` and `set` write a temporary file and rename it over
    the old one (readers see the old state or the new, never half of one); each write stamps
    an mtime later than the previous one, so two writes within the file system's timestamp
    granularity are still told apart. One process moves the clock; the others read it."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._stamp = -1
        self._last_written = 0
        self._wall = 0.0
        self._refresh()

    @classmethod
    def create(cls, path: Path, start: datetime, speed: float = 0.0) -> FileClock:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        _write_state(Path(path), start, timedelta(), speed, time.time(), 0)
        return cls(path)

    def now(self) -> datetime:
        self._refresh()
        elapsed = (time.time() - self._wall) * self._speed if self._speed else 0.0
        return self._start + self._offset + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta) -> datetime:
        self._refresh()
        self._save(self._offset + delta)
        return self.now()

    def set(self, moment: datetime) -> None:
        self._save(self._offset + (moment - self.now()))

    def _refresh(self) -> None:
        stamp = os.stat(self._path).st_mtime_ns
        if stamp == self._stamp:
            return
        state = json.loads(self._path.read_text())
        self._start = datetime.fromisoformat(state["start"])
        self._offset = timedelta(microseconds=state["offset_us"])
        self._speed = float(state["speed"])
        self._wall = float(state["wall"])
        self._stamp = stamp

    def _save(self, offset: timedelta) -> None:
        # With speed, the elapsed time so far folds into the offset and counts anew from now.
        wall = time.time()
        if self._speed:
            offset += timedelta(seconds=(wall - self._wall) * self._speed)
        self._last_written = _write_state(
            self._path, self._start, offset, self._speed, wall, max(self._stamp, self._last_written)
        )
        self._refresh()


def _write_state(
    path: Path, start: datetime, offset: timedelta, speed: float, wall: float, after_ns: int
) -> int:
    """Write the state atomically with an mtime after `after_ns`; returns that mtime."""
    state = {
        "start": start.isoformat(),
        "offset_us": offset // timedelta(microseconds=1),
        "speed": speed,
        "wall": wall,
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state))
    stamp = max(time.time_ns(), after_ns + 1)
    os.utime(temporary, ns=(stamp, stamp))
    os.replace(temporary, path)
    return stamp


def clock_for_speed(speed: float, file: Path | None = None) -> Clock:
    """The clock a service runs on: shared through `file` when one is named (the setting
    SHOPFLOW_CLOCK_FILE), else real time, or a simulated clock `speed` times faster."""
    if file is not None:
        return FileClock(file)
    return SystemClock() if speed == 1.0 else SimulatedClock(speed=speed)
