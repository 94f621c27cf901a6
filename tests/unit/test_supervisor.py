"""The launcher's supervisor: its back-off policy, and its restarts driven by a fake clock and
fake processes."""

from __future__ import annotations

from dataclasses import dataclass

from shared.supervisor import Backoff, Supervisor, describe_exit


def test_the_delay_starts_at_one_second_and_doubles_to_the_cap() -> None:
    backoff = Backoff(first_s=1, cap_s=30, reset_after_s=60)
    delays: list[float] = []
    previous = None
    for _ in range(8):
        previous = backoff.next_delay(previous, uptime_s=5)
        delays.append(previous)
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]


def test_the_delay_resets_once_the_process_stayed_up_long_enough() -> None:
    backoff = Backoff(first_s=1, cap_s=30, reset_after_s=60)
    assert backoff.next_delay(16, uptime_s=59.9) == 30
    assert backoff.next_delay(16, uptime_s=60) == 1
    assert backoff.next_delay(30, uptime_s=3600) == 1


def test_an_exit_is_described_by_its_code_or_its_signal() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(-9) == "was killed by SIGKILL"


@dataclass
class FakeProcess:
    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_exited_process_is_restarted_after_its_delay_and_recorded() -> None:
    clock, lines, restarts = Clock(), [], []
    pids = iter(range(1, 100))
    supervisor = Supervisor(
        log=lines.append,
        on_restart=lambda name, process: restarts.append((name, process.pid)),
        clock=clock,
    )
    first = supervisor.start("order", lambda: FakeProcess(next(pids)))

    first.returncode = -9
    clock.now += 10
    supervisor.check()
    assert lines == ["order was killed by SIGKILL; restarting it in 1s"]

    clock.now += 0.5
    supervisor.check()
    assert restarts == []

    clock.now += 0.5
    supervisor.check()
    assert restarts == [("order", 2)] and supervisor.process("order").pid == 2
    assert lines[-1] == "order restarted (pid 2)"

    supervisor.process("order").returncode = 1
    clock.now += 1
    supervisor.check()
    assert lines[-1] == "order exited with code 1; restarting it in 2s"


def test_a_restart_that_fails_is_tried_again_later() -> None:
    clock, lines = Clock(), []
    attempts = iter([FakeProcess(1, returncode=1), RuntimeError("port busy"), FakeProcess(3)])

    def start() -> FakeProcess:
        attempt = next(attempts)
        if isinstance(attempt, Exception):
            raise attempt
        return attempt

    supervisor = Supervisor(log=lines.append, on_restart=lambda *_: None, clock=clock)
    supervisor.start("tansu", start)
    supervisor.check()
    clock.now += 1
    supervisor.check()
    assert lines[-1] == "tansu did not start again (port busy); restarting it in 2s"
    clock.now += 2
    supervisor.check()
    assert lines[-1] == "tansu restarted (pid 3)"


def test_a_restarted_process_is_reported_ready_again_once() -> None:
    clock, lines = Clock(), []
    ready = {"now": False}
    supervisor = Supervisor(log=lines.append, on_restart=lambda *_: None, clock=clock)
    pids = iter(range(1, 100))
    first = supervisor.start("order", lambda: FakeProcess(next(pids)), ready=lambda: ready["now"])
    supervisor.check()
    assert lines == []  # the first start is the launcher's to wait for

    first.returncode = -9
    supervisor.check()
    clock.now += 1
    supervisor.check()
    clock.now += 2.5
    supervisor.check()
    assert lines[-1] == "order restarted (pid 2)"

    ready["now"] = True
    supervisor.check()
    supervisor.check()
    assert lines[-1] == "order is ready again, 2.5s after restart"
    assert sum("ready again" in line for line in lines) == 1


@dataclass
class DetachedServer(FakeProcess):
    exit_description: str = "stopped (its postmaster is gone)"


def test_a_process_may_describe_its_own_exit() -> None:
    clock, lines = Clock(), []
    supervisor = Supervisor(log=lines.append, on_restart=lambda *_: None, clock=clock)
    server = supervisor.start("postgres", lambda: DetachedServer(1))
    server.returncode = 1
    supervisor.check()
    assert lines == ["postgres stopped (its postmaster is gone); restarting it in 1s"]
