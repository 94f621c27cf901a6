"""The chaos run's client (bench/replicas.py): requests spread over a service's replicas, and
one that fails on a replica is sent again to another with the same Idempotency-Key."""

from __future__ import annotations

import httpx
import pytest

from bench.chaos import fault_schedule, parse_faults
from bench.replicas import ReplicaTransport, RetryStats

A, B = "http://127.0.0.1:1001", "http://127.0.0.1:1002"


def recording(answer):  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request, len(seen))

    return seen, httpx.MockTransport(handler)


async def test_a_failed_attempt_goes_to_the_other_replica_with_the_same_key() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if request.url.port == 1001:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"n": n})

    seen, inner = recording(answer)
    stats = RetryStats()
    transport = ReplicaTransport([A, B], stats, inner=inner, max_delay_s=0.01)
    async with httpx.AsyncClient(base_url="http://order", transport=transport) as client:
        r = await client.post("/v1/orders", json={"x": 1}, headers={"Authorization": "t"})
    assert r.status_code == 201 and r.json() == {"n": 2}
    assert [q.url.port for q in seen] == [1001, 1002]
    keys = {q.headers["idempotency-key"] for q in seen}
    assert len(keys) == 1 and seen[1].content == b'{"x":1}'
    assert seen[1].headers["x-correlation-id"] == keys.pop()
    assert stats.retried_requests == 1 and stats.attempts["ConnectError"] == 1


async def test_unavailable_and_in_progress_answers_are_retried_and_reads_carry_no_key() -> None:
    answers = [
        httpx.Response(503),
        httpx.Response(409, json={"type": "https://shopflow.dev/problems/idempotency-in-progress"}),
        httpx.Response(200, json={"ok": True}),
    ]
    seen, inner = recording(lambda request, n: answers[n - 1])
    transport = ReplicaTransport([A, B], inner=inner, max_delay_s=0.01)
    async with httpx.AsyncClient(base_url="http://order", transport=transport) as client:
        assert (await client.get("/v1/orders/1")).json() == {"ok": True}
    assert all("idempotency-key" not in q.headers for q in seen)
    assert [q.url.port for q in seen] == [1001, 1002, 1001]


async def test_a_domain_answer_is_not_retried_and_the_budget_bounds_retries() -> None:
    seen, inner = recording(lambda request, n: httpx.Response(409, json={"type": "conflict"}))
    transport = ReplicaTransport([A, B], inner=inner)
    async with httpx.AsyncClient(base_url="http://order", transport=transport) as client:
        assert (await client.post("/v1/x")).status_code == 409
    assert len(seen) == 1
    seen, inner = recording(lambda request, n: httpx.Response(502))
    transport = ReplicaTransport([A, B], inner=inner, budget_s=0.3, max_delay_s=0.05)
    async with httpx.AsyncClient(base_url="http://order", transport=transport) as client:
        assert (await client.post("/v1/x")).status_code == 502
    assert 2 <= len(seen) < 20


def test_the_fault_schedule_is_seeded_and_has_every_kind() -> None:
    kinds = parse_faults("all")
    first = fault_schedule(kinds, 3)
    assert [(f.kind, f.target, f.hold_s) for f in first] == [
        (f.kind, f.target, f.hold_s) for f in fault_schedule(kinds, 3)
    ]
    assert {f.kind for f in first} == set(kinds)
    assert sorted(f.target for f in first if f.kind == "kill") == sorted(
        f"{s}-{i}"
        for s in ("order", "fulfillment", "pickup", "aftersales", "analytics")
        for i in (1, 2)
    )
    assert parse_faults("none") == () and parse_faults("kill,postgres") == ("kill", "postgres")
    with pytest.raises(ValueError):
        parse_faults("meteor")
