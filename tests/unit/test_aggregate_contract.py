"""The contract every aggregate and every reaction table passes (STYLE.md, Tests).

Each service lists, in `tests/aggregates/<service>.py`, event histories of each of its
aggregates (`HISTORIES`, made by deciding real commands) and the reaction tables its app
registers (`REACTIONS`). For every history: folding all events at once gives the same state
as evolving one event at a time, the fold leaves the state it starts from untouched, and a
snapshot (where the aggregate keeps them) round-trips. Every reaction key is a registered
event model.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Mapping
from typing import Any

import pytest

import tests.aggregates
from shared.aggregate import Aggregate
from shared.consumer import reactions_by_type
from shared.db import dumps
from shared.events import REGISTRY, EventPayload

SERVICES = [m.name for m in pkgutil.iter_modules(tests.aggregates.__path__)]
HISTORIES: list[tuple[str, Aggregate[Any], list[EventPayload]]] = []
REACTIONS: list[tuple[str, Mapping[type[EventPayload], Any]]] = []
for _service in SERVICES:
    _module = importlib.import_module(f"tests.aggregates.{_service}")
    HISTORIES += [(f"{_service}:{a.name}:{i}", a, e) for i, (a, e) in enumerate(_module.HISTORIES)]
    REACTIONS += [(f"{_service}:{i}", r) for i, r in enumerate(_module.REACTIONS)]
IDS = [h[0] for h in HISTORIES]


def _domain_aggregates(service: str) -> list[Aggregate[Any]]:
    """The aggregates defined at module level in `services/<service>/domain/`."""
    package = importlib.import_module(f"services.{service}.domain")
    found: list[Aggregate[Any]] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, Aggregate) and v not in found]
    return found


@pytest.mark.parametrize("service", ["order", "fulfillment", "pickup", "aftersales"])
def test_every_aggregate_of_a_service_has_a_history(service: str) -> None:
    assert service in SERVICES
    listed = {a.name for name, a, _ in HISTORIES if name.startswith(f"{service}:")}
    defined = {a.name for a in _domain_aggregates(service)}
    assert defined <= listed


@pytest.mark.parametrize(("aggregate", "events"), [h[1:] for h in HISTORIES], ids=IDS)
def test_folding_all_events_equals_evolving_one_by_one(
    aggregate: Aggregate[Any], events: list[EventPayload]
) -> None:
    assert events, "a history has events"
    assert aggregate.name and aggregate.stream("x") == f"{aggregate.name}/x"
    assert all(type(e).event_type in REGISTRY for e in events)
    state = aggregate.initial
    for event in events:
        state = aggregate.evolve(state, event)
    assert aggregate.fold(events) == state
    half = len(events) // 2
    assert aggregate.fold(events[half:], aggregate.fold(events[:half])) == state
    assert aggregate.fold([]) == aggregate.initial  # the start state is untouched


@pytest.mark.parametrize(("aggregate", "events"), [h[1:] for h in HISTORIES], ids=IDS)
def test_a_snapshot_round_trips(aggregate: Aggregate[Any], events: list[EventPayload]) -> None:
    if aggregate.snapshots is None:
        pytest.skip(f"{aggregate.name} keeps no snapshots")
    state = aggregate.fold(events)
    encoded = json.loads(dumps(aggregate.snapshots.encode(state)))  # as stored (jsonb)
    assert aggregate.snapshots.decode(encoded) == state


@pytest.mark.parametrize("reactions", [r[1] for r in REACTIONS], ids=[r[0] for r in REACTIONS])
def test_every_reaction_is_keyed_by_a_registered_event(
    reactions: Mapping[type[EventPayload], Any],
) -> None:
    assert reactions
    assert len(reactions_by_type(reactions)) == len(reactions)
    assert all(not isinstance(key, str) for key in reactions)
