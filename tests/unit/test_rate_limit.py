"""The token bucket behind the write rate limit, on an injected clock."""

from __future__ import annotations

from shared.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_principal_may_send_its_burst_at_once_then_waits_for_a_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take("卖家-1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("卖家-1") == 0.5  # one token refills in 1 / rate seconds
    clock.now += 0.25
    assert bucket.take("卖家-1") == 0.25
    clock.now += 0.25
    assert bucket.take("卖家-1") == 0.0


def test_a_refused_request_takes_no_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    assert bucket.take("k") == 0.0
    for _ in range(5):
        assert bucket.take("k") == 1.0
    clock.now += 1.0
    assert bucket.take("k") == 0.0


def test_an_idle_principal_refills_to_its_burst_and_no_more() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    bucket.take("k")
    bucket.take("k")
    clock.now += 3600
    assert [bucket.take("k") for _ in range(3)] == [0.0, 0.0, 0.1]


def test_principals_have_their_own_buckets() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, clock=Clock())
    assert bucket.take("buyer-a") == 0.0
    assert bucket.take("buyer-a") > 0
    assert bucket.take("buyer-b") == 0.0


def test_full_buckets_are_forgotten_once_there_are_many() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=5, clock=clock, max_keys=3)
    for key in ("a", "b", "c"):
        bucket.take(key)
    clock.now += 10  # a, b, c are full again
    bucket.take("d")
    bucket.take("e")
    assert set(bucket._buckets) == {"d", "e"}
    assert bucket.take("d") == 0.0
