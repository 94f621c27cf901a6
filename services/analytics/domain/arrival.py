"""Which of an order's events apply, and in which order: the view of an order is a function of
the *set* of events known for it, so events arriving in any order, from any topic, give the
same view.

- The order's own streams (`order/`, `fulfillment/`, `aftersales/` + order id) are applied by
  stream version, and only as far as the versions are contiguous from 1: an event that comes
  before its predecessor is held (kept, counted in `held`) until the gap is filled.
- Streams are applied one after another, by rank: the order's, fulfillment's, the pickup
  service's parcels (any other stream), aftersales'. Each aspect of the view comes from one
  stream (status from the order's, packages from fulfillment's, collection from the parcels',
  cases from aftersales'), so no aspect depends on how two topics interleave.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from shared.events import REGISTRY, Envelope, EventPayload
from shared.events.aftersales import AFTERSALES_STREAM
from shared.events.fulfillment import FULFILLMENT_STREAM
from shared.events.order import ORDER_STREAM

# The order's own streams (`<name>/<order id>`), by rank. An order's event on any other
# stream (a pickup parcel's, `parcel/<package id>`) ranks between fulfillment's and aftersales'.
ORDER_STREAM_RANK = {ORDER_STREAM: 0, FULFILLMENT_STREAM: 1, AFTERSALES_STREAM: 3}
OTHER_STREAM_RANK = 2


class Recorded(NamedTuple):
    """An event of the order as the projection knows it: where and when it was recorded, and
    the event itself in its type's current schema (None: a type this service does not know;
    it still shows on the timeline)."""

    stream_id: str
    stream_version: int
    event_type: str
    occurred_at: datetime
    event: EventPayload | None


def recorded(envelope: Envelope) -> Recorded:
    """The envelope's event, decoded by the event registry (which upcasts an older schema)."""
    event = envelope.decode() if envelope.event_type in REGISTRY else None
    return Recorded(
        envelope.stream_id,
        envelope.stream_version,
        envelope.event_type,
        envelope.occurred_at,
        event,
    )


def applicable(events: Iterable[Recorded]) -> tuple[list[Recorded], int]:
    """The events to apply, in application order, and how many are held for a gap."""
    by_stream: dict[str, dict[int, Recorded]] = defaultdict(dict)
    for e in events:
        by_stream[e.stream_id].setdefault(e.stream_version, e)
    chosen: list[Recorded] = []
    held = 0
    for stream_id in sorted(by_stream, key=_stream_order):
        versions = by_stream[stream_id]
        if _order_stream_rank(stream_id) is not None:
            n = 1
            while n in versions:
                chosen.append(versions[n])
                n += 1
            held += len(versions) - (n - 1)
        else:
            chosen.extend(versions[v] for v in sorted(versions))
    return chosen, held


def _order_stream_rank(stream_id: str) -> int | None:
    name, slash, _ = stream_id.partition("/")
    return ORDER_STREAM_RANK.get(name) if slash else None


def _stream_order(stream_id: str) -> tuple[int, str]:
    rank = _order_stream_rank(stream_id)
    return (OTHER_STREAM_RANK if rank is None else rank), stream_id
