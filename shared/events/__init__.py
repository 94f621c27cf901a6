"""The event envelope of the public contract and the explicit registry of event models.

Event type names are registered by hand, never derived from module paths, so that a refactor
cannot break stored events. An old `schema_version` is upcast on read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.models import Model


class EventPayload(Model):
    """Base of every event payload model. `event_type` and `schema_version` are set by
    `@register`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    topic_service: ClassVar[str]


class Envelope(BaseModel):
    """What goes on the wire and into the event store (CONTRACT.md, Events)."""

    model_config = ConfigDict(frozen=True)
    event_id: uuid.UUID
    event_type: str
    schema_version: int
    occurred_at: datetime
    producer: str
    stream_id: str
    stream_version: int
    order_id: uuid.UUID | None = None
    seller_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any]

    @property
    def key(self) -> str:
        """Kafka key: the order id where the event concerns an order, else the aggregate id."""
        return str(self.order_id) if self.order_id else self.stream_id

    def decode(self) -> EventPayload:
        return REGISTRY.decode(self.event_type, self.schema_version, self.payload)


P = TypeVar("P", bound=type[EventPayload])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Registration:
    model: type[EventPayload]
    upcasters: dict[int, Upcaster]  # from version n to n+1


class UnknownEventType(LookupError):
    pass


class EventRegistry:
    def __init__(self) -> None:
        self._by_name: dict[str, _Registration] = {}

    def register(self, name: str, *, service: str, version: int = 1) -> Callable[[P], P]:
        def wrap(model: P) -> P:
            if name in self._by_name and self._by_name[name].model is not model:
                raise ValueError(f"event type {name!r} is registered twice")
            model.event_type = name
            model.schema_version = version
            model.topic_service = service
            self._by_name[name] = _Registration(model, {})
            return model

        return wrap

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def wrap(fn: Upcaster) -> Upcaster:
            self._by_name[name].upcasters[from_version] = fn
            return fn

        return wrap

    def model(self, name: str) -> type[EventPayload]:
        try:
            return self._by_name[name].model
        except KeyError:
            raise UnknownEventType(name) from None

    def decode(self, name: str, version: int, payload: dict[str, Any]) -> EventPayload:
        reg = self._by_name.get(name)
        if reg is None:
            raise UnknownEventType(name)
        data = payload
        while version < reg.model.schema_version:
            data = reg.upcasters[version](data)
            version += 1
        return reg.model.model_validate(data)

    def names(self, service: str | None = None) -> list[str]:
        return sorted(
            n
            for n, r in self._by_name.items()
            if service is None or r.model.topic_service == service
        )

    def __contains__(self, name: str) -> bool:
        return name in self._by_name


REGISTRY = EventRegistry()
register = REGISTRY.register
