"""The committed event contract (docs/events) is what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from shared.events.docs import asyncapi, documents
from shared.kafka import EventHeaders

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_committed_schemas_match_the_models() -> None:
    generated = documents()
    committed = {p.name: p.read_text() for p in DOCS.glob("*.json")}
    stale = sorted(name for name in generated if committed.get(name) != generated[name])
    assert not stale, f"run `.venv/bin/shopflow schemas` to refresh: {stale}"
    assert set(committed) == set(generated)


def test_asyncapi_names_every_order_event_on_its_topic() -> None:
    doc = json.loads(documents()["asyncapi.json"])
    channel = doc["channels"]["orderEvents"]
    assert channel["address"] == "shopflow.order.events"
    assert {"OrderPlaced", "OrderCancelled", "OrderStatusChanged"} <= set(channel["messages"])


def test_asyncapi_documents_the_headers_the_relay_sets() -> None:
    sent = dict(EventHeaders("OrderPlaced", "order/1", 3).to_kafka())
    headers = asyncapi()["components"]["messages"]["OrderPlaced"]["headers"]
    assert set(headers["required"]) == set(headers["properties"]) == set(sent)
    assert headers["properties"]["event_type"]["const"] == sent["event_type"].decode()
