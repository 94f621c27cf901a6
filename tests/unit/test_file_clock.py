"""The simulated clock shared by processes through a file (shared.clock.FileClock)."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import FileClock, SimulatedClock, SystemClock, clock_for_speed
from shared.runtime import ServiceRuntime
from shared.settings import Settings

START = datetime(2026, 11, 2, 5, 35, tzinfo=UTC)


def test_a_reader_sees_every_move_of_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    writer = FileClock.create(path, START)
    reader = FileClock(path)
    assert reader.now() == START
    for n in range(1, 200):  # many writes within one tick of the file system's timestamps
        writer.advance(timedelta(microseconds=7))
        assert reader.now() == START + n * timedelta(microseconds=7)
    writer.set(START + timedelta(days=3, seconds=1, microseconds=1))
    assert reader.now() == START + timedelta(days=3, seconds=1, microseconds=1)
    assert writer.now() == reader.now()


def test_it_is_a_simulated_clock_and_needs_a_timezone(tmp_path: Path) -> None:
    clock = FileClock.create(tmp_path / "clock.json", START)
    assert isinstance(clock, SimulatedClock)
    assert clock.advance(timedelta(hours=1)) == START + timedelta(hours=1)
    with pytest.raises(ValueError):
        FileClock.create(tmp_path / "other.json", datetime(2026, 1, 1))


def test_a_reader_reads_the_file_only_when_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    FileClock.create(path, START)
    reader = FileClock(path)
    stamp = os.stat(path).st_mtime_ns
    path.write_text("not json: a reader that parsed it again would fail")
    os.utime(path, ns=(stamp, stamp))
    assert reader.now() == START


def test_an_accelerated_shared_clock_runs_and_keeps_its_jumps(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    writer = FileClock.create(path, START, speed=3600.0)
    reader = FileClock(path)
    time.sleep(0.01)
    assert reader.now() > START
    moved = writer.advance(timedelta(days=1))
    assert moved >= START + timedelta(days=1)
    assert reader.now() >= moved


def _read_in_another_process(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(FileClock(Path(path)).now().isoformat())


def test_another_process_reads_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    writer = FileClock.create(path, START)
    writer.advance(timedelta(hours=73, microseconds=5))
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
    process = multiprocessing.get_context("spawn").Process(
        target=_read_in_another_process, args=(str(path), queue)
    )
    process.start()
    process.join(30)
    assert datetime.fromisoformat(queue.get(timeout=5)) == writer.now()


def test_services_pick_the_shared_clock_when_the_setting_names_a_file(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    FileClock.create(path, START)
    assert isinstance(clock_for_speed(1.0, path), FileClock)
    assert isinstance(clock_for_speed(1.0), SystemClock)
    settings = Settings(
        DATABASE_URL="postgresql://u@h/db", clock_file=path, kafka_topic_prefix="x."
    )
    runtime = ServiceRuntime("order", settings)
    assert isinstance(runtime.clock, FileClock) and runtime.now() == START


def test_the_setting_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPFLOW_CLOCK_FILE", str(tmp_path / "clock.json"))
    assert Settings().clock_file == tmp_path / "clock.json"
