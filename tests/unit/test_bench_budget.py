"""The CPU budget's arithmetic (bench/budget.py): which mechanism a sampled stack is spent in,
and how a process's CPU is shared out over its samples."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.budget import (
    _DRIVER_RULES,
    figures,
    mechanism,
    samples_by_mechanism,
    service_of,
    split,
    worker_name,
)

ENTRY = (
    "_run_module_as_main (<frozen runpy>:198);<module> (services/order/__main__.py:3);"
    "serve (shared/serve.py:24);run (uvicorn/main.py:632);run (uvicorn/server.py:86);"
    "asyncio_run (uvicorn/_compat.py:30);run (asyncio/runners.py:118)"
)


def in_task(*frames: str) -> str:
    """A task's stack as py-spy samples it: the process's entry, then the task's frames."""
    return ";".join((ENTRY, *frames))


SUPERVISED = "_supervise (shared/runtime.py:100)"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        (
            in_task(
                "run_asgi (uvicorn/protocols/http/httptools_impl.py:422)",
                "__call__ (shared/middleware.py:67)",
            ),
            "http",
        ),
        (
            in_task(SUPERVISED, "run (shared/consumer.py:338)", "handle (services/x.py:42)"),
            "consumer",
        ),
        (
            in_task(SUPERVISED, "run (shared/relay.py:80)", "send (aiokafka/producer/x.py:1)"),
            "relay",
        ),
        (in_task(SUPERVISED, "run (shared/deadlines.py:50)"), "scheduler"),
        (in_task("_fetch_requests_routine (aiokafka/consumer/fetcher.py:545)"), "consumer"),
        (in_task("_heartbeat_routine (aiokafka/consumer/group_coordinator.py:1)"), "kafka_client"),
        # a greenlet's stack starts afresh: its caller is not seen
        ("_execute_clauseelement (sqlalchemy/engine/base.py:1714)", "database_greenlet"),
        ("", "event_loop"),
    ],
)
def test_a_stack_is_spent_in_the_mechanism_its_task_serves(stack: str, expected: str) -> None:
    assert mechanism(stack) == expected


def test_the_stack_of_the_loop_itself_is_the_event_loop() -> None:
    assert mechanism(ENTRY) == "event_loop"


def test_the_drivers_time_in_the_http_client_is_told_from_its_own_logic() -> None:
    journey = "run (asyncio/runners.py:1);journey (bench/load.py:200);call (bench/load.py:150)"

    def driver(stack: str) -> str:
        return mechanism(stack, _DRIVER_RULES, innermost_first=True)

    assert driver(f"{journey};request (httpx/_client.py:1)") == "http_client"
    assert driver(f"{journey};loads (json/__init__.py:1)") == "journey_logic"


def test_rules_are_tried_from_the_outermost_frame_unless_told() -> None:
    stack = "journey (bench/load.py:200);request (httpx/_client.py:1)"
    assert mechanism(stack, _DRIVER_RULES) == "journey_logic"
    assert mechanism(stack, _DRIVER_RULES, innermost_first=True) == "http_client"
    raw = f"{stack} 4\n"
    assert samples_by_mechanism(raw, _DRIVER_RULES, innermost_first=True) == Counter(
        {"http_client": 4}
    )


def test_raw_output_is_summed_by_mechanism() -> None:
    raw = (
        f"{ENTRY};run (shared/relay.py:1) 3\n"
        f"{ENTRY};run (shared/consumer.py:1) 5\n"
        f"{ENTRY};run (shared/consumer.py:2);x (y.py:1) 2\n"
        "garbage\n"
    )
    assert samples_by_mechanism(raw) == Counter({"consumer": 7, "relay": 3})


def test_cpu_is_shared_out_in_proportion_to_the_samples() -> None:
    shares = split(100.0, {"http": 3, "consumer": 1}, ("http", "consumer", "event_loop"))
    assert shares == {"http": 75.0, "consumer": 25.0, "event_loop": 0.0}
    assert split(10.0, {}, ("http", "event_loop")) == {"http": 0.0, "event_loop": 10.0}


def test_a_runs_figures_are_per_journey_with_postgres_and_the_broker_on_their_own() -> None:
    out = figures(
        journeys=10,
        cpu_s={"order": 1.0, "load_driver": 0.5, "postgres": 1.5, "broker": 0.5, "machine": 4.0},
        samples={"order": Counter({"http": 1, "consumer": 1})},
        counts={"http_requests": 100, "statements_order": 300, "transactions_order": 50},
    )
    assert out["journey_cpu_ms_order"] == 100.0
    assert out["journey_cpu_ms_order_http"] == 50.0
    assert out["journey_cpu_ms_load_driver_event_loop"] == 50.0  # not sampled
    assert (out["journey_cpu_ms_postgres"], out["journey_cpu_ms_broker"]) == (150.0, 50.0)
    assert "journey_cpu_ms_postgres_event_loop" not in out
    assert out["journey_cpu_ms_rest_of_machine"] == 50.0
    assert out["journey_cpu_ms_total"] == 400.0
    assert out["per_journey_http_requests"] == 10.0
    assert (out["per_journey_statements"], out["per_journey_transactions"]) == (30.0, 5.0)


def test_a_services_workers_are_named_apart_and_belong_to_it() -> None:
    names = [worker_name("order", i) for i in range(3)]
    assert names == ["order", "order#2", "order#3"]
    assert {service_of(n) for n in names} == {"order"}
    assert service_of("load_driver") == "load_driver"


def test_a_services_workers_fold_into_its_row() -> None:
    out = figures(
        journeys=10,
        cpu_s={"order": 1.0, "order#2": 0.5, "load_driver": 0.5, "machine": 3.0},
        samples={
            "order": Counter({"http": 2}),
            "order#2": Counter({"http": 1, "consumer": 3}),
        },
        counts={},
    )
    assert out["journey_cpu_ms_order"] == 150.0
    assert (out["journey_cpu_ms_order_http"], out["journey_cpu_ms_order_consumer"]) == (75.0, 75.0)
    assert not any("#" in k for k in out)
    assert out["journey_cpu_ms_rest_of_machine"] == 100.0
