"""One clock abstraction: real time in production, simulated (settable, accelerated) in
tests and demos. Domain code never reads a clock; time comes in with the command."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
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


def clock_for_speed(speed: float) -> Clock:
    return SystemClock() if speed == 1.0 else SimulatedClock(speed=speed)
