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
    handled_by,
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


def test_a_scan_by_another_provider_after_collection_is_no_repeat() -> None:
    parcel = awaited()
    picked = PARCEL.fold(decide(parcel, Collect("d1", "WS", "WS", T0)), parcel)
    assert picked.collected_by == "WS"
    with pytest.raises(DomainError, match="PICKED_UP"):
        decide(picked, Collect("d9", "GHN", "GHN", T0))


def test_only_the_provider_holding_a_parcel_handles_it() -> None:
    parcel = awaited()  # labelled WS
    assert handled_by(parcel, "WS", None)
    assert handled_by(parcel, "GHN", "GHN")  # the region moved to GHN before collection
    assert not handled_by(parcel, "GHN", None)
    assert not handled_by(parcel, None, None) and not handled_by(parcel, "", "")
    assert not handled_by(Parcel(), "WS", "WS")
    picked = PARCEL.fold(decide(parcel, Collect("d2", "GHN", "GHN", T0)), parcel)
    assert handled_by(picked, "GHN", None)
    assert not handled_by(picked, "WS", "GHN")  # GHN holds it now, not the label's WS
    at_hub = PARCEL.fold(decide(picked, ArriveAtHub("HUB-1", T0)), picked)
    assert handled_by(at_hub, "GHN", None) and not handled_by(at_hub, "WS", None)
