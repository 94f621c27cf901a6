"""A parcel on the first mile: collected by the right driver, at the hub, overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.pickup.domain.parcel import (
    PARCEL,
    ArriveAtHub,
    Collect,
    FlagPickupOverdue,
    Parcel,
    ReceiveDropOff,
    decide,
)
from shared.aggregate import DomainError, NotFound
from shared.events.pickup import PickedUp, PickupOverdue
from tests.unit.pickup.given import T0, awaited


def test_a_scan_by_the_labels_provider_or_the_regions_new_one() -> None:
    parcel = awaited()
    [picked] = decide(parcel, Collect("d1", "WS", "WS", T0))
    assert isinstance(picked, PickedUp)
    after = PARCEL.fold([picked], parcel)
    assert decide(after, Collect("d1", "WS", "WS", T0)) == []  # a repeated scan
    with pytest.raises(DomainError, match="collected by WS"):
        decide(parcel, Collect("d2", "GHN", "WS", T0))
    assert decide(parcel, Collect("d2", "GHN", "GHN", T0))  # labelled before a switch to GHN
    with pytest.raises(NotFound):
        decide(Parcel(), Collect("d1", "WS", "WS", T0))
    with pytest.raises(DomainError):
        decide(awaited("DROP_OFF"), Collect("d1", "WS", "WS", T0))


def test_hub_arrival_follows_collection_and_overdue_is_flagged_after_48_hours() -> None:
    parcel = awaited()
    with pytest.raises(DomainError):
        decide(parcel, ArriveAtHub("HUB-1", T0))
    assert decide(parcel, FlagPickupOverdue(timedelta(hours=48), T0 + timedelta(hours=47))) == []
    [late] = decide(parcel, FlagPickupOverdue(timedelta(hours=48), T0 + timedelta(hours=48)))
    assert isinstance(late, PickupOverdue)
    dropped = awaited("DROP_OFF")
    received = PARCEL.fold(decide(dropped, ReceiveDropOff("op", T0)), dropped)
    assert received.status == "DROPPED_OFF"
    assert PARCEL.fold(decide(received, ArriveAtHub("HUB-1", T0)), received).status == "AT_HUB"
