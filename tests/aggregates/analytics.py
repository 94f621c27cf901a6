"""The analytics service has no aggregate and registers no reactions: a batch handler feeds
its projection (`AnalyticsService.apply`). Its view fold has its own test (folding in one go
equals evolving event by event): tests/unit/analytics/test_order_view.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.aggregate import Aggregate
from shared.consumer import Reaction
from shared.events import EventPayload

HISTORIES: list[tuple[Aggregate[Any], list[EventPayload]]] = []
REACTIONS: list[Mapping[type[EventPayload], Reaction]] = []
