"""The once-only record per source stream: any arrival order, any repeats."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.progress import MAX_AHEAD, StreamProgress


@given(st.permutations(list(range(1, 40))), st.lists(st.integers(1, 39), max_size=30))
def test_every_version_is_taken_once_in_any_order_and_repeats_are_seen(
    order: list[int], repeats: list[int]
) -> None:
    progress, taken = StreamProgress(), []
    arrivals = order[:20] + repeats + order[20:]
    for version in arrivals:
        if not progress.done(version):
            taken.append(version)
        progress = progress.take(version)
    assert sorted(taken) == list(range(1, 40))  # each once
    assert progress == StreamProgress(39, frozenset())  # all contiguous: nothing kept ahead


def test_a_version_past_a_gap_waits_ahead_of_the_watermark_until_the_gap_closes() -> None:
    progress = StreamProgress().take(1).take(3).take(4)
    assert progress == StreamProgress(1, frozenset({3, 4}))
    assert progress.done(3) and not progress.done(2)
    assert progress.take(2) == StreamProgress(4, frozenset())


def test_versions_that_never_come_are_given_up_past_the_bound() -> None:
    progress = StreamProgress()
    for version in range(2, MAX_AHEAD + 3):  # version 1 never arrives
        progress = progress.take(version)
    assert progress.watermark == MAX_AHEAD + 2 and not progress.ahead
