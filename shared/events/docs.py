"""JSON Schemas and an AsyncAPI document generated from the event models, so operators
writing their own consumers have a contract (`shopflow schemas` writes them to docs/events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events import REGISTRY, Envelope
from shared.events import aftersales as _aftersales  # noqa: F401  (registers events)
from shared.events import fulfillment as _fulfillment  # noqa: F401
from shared.events import order as _order  # noqa: F401
from shared.events import pickup as _pickup  # noqa: F401
from shared.events import webhooks as _webhooks  # noqa: F401
from shared.settings import SERVICES


def event_schema(name: str) -> dict[str, Any]:
    model = REGISTRY.model(name)
    schema = model.model_json_schema(mode="serialization")
    schema["title"] = name
    schema["x-schema-version"] = model.schema_version
    schema["x-topic"] = f"shopflow.{model.topic_service}.events"
    return schema


def asyncapi() -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service in SERVICES:
        names = REGISTRY.names(service)
        if not names:
            continue
        channel = f"{service}Events"
        channels[channel] = {
            "address": f"shopflow.{service}.events",
            "description": f"Events of the {service} service; key = order_id where the event "
            "concerns an order, otherwise the aggregate id.",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        operations[f"receive{service.title()}Events"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
        }
        for name in names:
            payload = json.loads(json.dumps(envelope))
            payload["title"] = f"{name} envelope"
            payload["properties"]["event_type"] = {"const": name, "type": "string"}
            payload["properties"]["payload"] = {"$ref": f"{name}.schema.json"}
            messages[name] = {
                "name": name,
                "contentType": "application/json",
                "headers": _headers(name),
                "payload": payload,
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "shopflow events",
            "version": "1.0.0",
            "description": "Domain events on Kafka; the envelope is the same for every type.",
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _headers(name: str) -> dict[str, Any]:
    """The Kafka headers the relay sets on every record (`shared.kafka.EventHeaders`)."""
    return {
        "type": "object",
        "description": "Kafka record headers, UTF-8: what a consumer needs to pass over an "
        "event it does not handle without parsing the value.",
        "required": ["event_type", "stream_id", "stream_version"],
        "properties": {
            "event_type": {"const": name, "type": "string"},
            "stream_id": {"type": "string"},
            "stream_version": {"type": "string", "pattern": "^[1-9][0-9]*$"},
        },
    }


def documents() -> dict[str, str]:
    """File name -> content of everything under docs/events."""
    files = {f"{name}.schema.json": _dump(event_schema(name)) for name in REGISTRY.names()}
    files["envelope.schema.json"] = _dump(Envelope.model_json_schema())
    files["asyncapi.json"] = _dump(asyncapi())
    return files


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in documents().items():
        path = directory / name
        path.write_text(content)
        written.append(path)
    return written


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
