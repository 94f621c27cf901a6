"""Prometheus metrics, defined once per process; every series is labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "shopflow_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "shopflow_http_request_duration_seconds", "HTTP request latency", ["service", "route"]
)
EVENTS_APPENDED = Counter(
    "shopflow_events_appended_total", "Events appended to the store", ["service", "event_type"]
)
COMMAND_CONFLICTS = Counter(
    "shopflow_command_conflicts_total", "Optimistic concurrency conflicts", ["service"]
)
RELAY_PUBLISHED = Counter(
    "shopflow_relay_published_total", "Events acknowledged by the broker", ["service"]
)
RELAY_BATCH = Gauge(
    "shopflow_relay_batch", "Events found after the checkpoint in the last pass", ["service"]
)
RELAY_REPUBLISHED = Counter(
    "shopflow_relay_republished_total",
    "Times the topic had lost events and everything was published again",
    ["service"],
)
RELAY_LEADER = Gauge("shopflow_relay_leader", "1 while this process leads", ["service"])
CONSUMED = Counter(
    "shopflow_consumer_events_total",
    "Events read by consumers; outcome: applied, or skipped (a repeat or not reacted to)",
    ["consumer", "outcome"],
)
DEAD_LETTERS = Counter("shopflow_dead_letters_total", "Events parked as dead letters", ["consumer"])
DEADLINES_FIRED = Counter(
    "shopflow_deadlines_fired_total", "Deadlines fired", ["service", "kind", "outcome"]
)
DEADLINES_DUE = Gauge(
    "shopflow_deadlines_due",
    "Deadlines due and not yet fired that the scheduler found in its last pass (at most its "
    "batch; 0 when nothing was due)",
    ["service"],
)
PURGED = Counter("shopflow_purged_rows_total", "Rows purged after retention", ["service", "table"])
PICKUP_REVIEWS_OVERDUE = Counter(
    "shopflow_pickup_subscription_reviews_overdue_total",
    "Pickup subscription requests not reviewed by the provider in time",
)
PROJECTION_LAG = Histogram(
    "shopflow_projection_lag_seconds",
    "From an event's occurred_at to the refresh of its order view, as a projection applies it",
    ["projection"],
    buckets=(
        0.005,
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.15,
        0.2,
        0.25,
        0.3,
        0.4,
        0.5,
        0.75,
        1.0,
        1.5,
        2.0,
        3.0,
        5.0,
        10.0,
        30.0,
        60.0,
    ),
)
