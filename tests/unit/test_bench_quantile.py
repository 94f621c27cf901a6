"""The load benchmark reads projection-lag percentiles from two readings of a cumulative
Prometheus histogram; the arithmetic must be right for the figures to mean anything."""

from __future__ import annotations

import math

from bench.load import quantile

INF = float("inf")


def test_quantiles_count_only_what_was_observed_between_the_readings() -> None:
    before = {0.1: 5.0, 0.2: 5.0, 0.5: 5.0, INF: 5.0}
    after = {0.1: 15.0, 0.2: 25.0, 0.5: 105.0, INF: 105.0}  # 10 + 10 + 80 new ones
    assert math.isclose(quantile(0.1, before, after), 0.1)
    assert math.isclose(quantile(0.15, before, after), 0.15)  # halfway through (0.1, 0.2]
    assert math.isclose(quantile(0.6, before, after), 0.2 + 0.3 * (40 / 80))
    assert math.isclose(quantile(0.99, before, after), 0.2 + 0.3 * (79 / 80))


def test_a_quantile_beyond_the_last_finite_bucket_is_its_bound() -> None:
    after = {0.1: 1.0, 1.0: 1.0, INF: 10.0}
    assert quantile(0.99, {}, after) == 1.0


def test_no_observation_has_no_quantile() -> None:
    assert math.isnan(quantile(0.5, {0.1: 3.0, INF: 3.0}, {0.1: 3.0, INF: 3.0}))
