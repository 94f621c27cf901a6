"""A label defect found at the hub (issue 16): only at the hub, once, and charged to the
seller as a relabel fee."""

from __future__ import annotations

import pytest

from services.pickup.domain.parcel import (
    PARCEL,
    ArriveAtHub,
    Collect,
    Parcel,
    RecordLabelDefect,
    decide,
)
from shared.aggregate import DomainError, NotFound
from shared.events.pickup import LabelDefectRecorded, RelabelFeeCharged
from shared.money import Money
from tests.unit.pickup.given import T0, awaited

FEE = Money(amount=500, currency="CNY")


def defect(reason: str = "UNREADABLE_LABEL") -> RecordLabelDefect:
    return RecordLabelDefect(reason, "面单条码无法扫描", "op-7", FEE, T0)  # type: ignore[arg-type]


def at_hub() -> Parcel:
    parcel = awaited()
    picked = PARCEL.fold(decide(parcel, Collect("d1", "WS", "WS", T0)), parcel)
    return PARCEL.fold(decide(picked, ArriveAtHub("DG-HM-1", T0)), picked)


def test_a_defect_at_the_hub_is_recorded_with_the_hub_and_charges_the_seller() -> None:
    parcel = at_hub()
    recorded, charged = decide(parcel, defect())
    assert isinstance(recorded, LabelDefectRecorded) and isinstance(charged, RelabelFeeCharged)
    assert (recorded.hub_id, recorded.reason_code, recorded.recorded_by) == (
        "DG-HM-1",
        "UNREADABLE_LABEL",
        "op-7",
    )
    assert recorded.note == "面单条码无法扫描"
    assert (charged.seller_id, charged.fee, charged.package_id) == ("s1", FEE, parcel.package_id)
    assert PARCEL.fold([recorded, charged], parcel).label_defect == "UNREADABLE_LABEL"


def test_a_defect_is_recorded_only_after_hub_arrival() -> None:
    waiting = awaited()
    with pytest.raises(DomainError, match="AWAITING_PICKUP") as refused:
        decide(waiting, defect())
    assert refused.value.code == "not-at-hub"
    picked = PARCEL.fold(decide(waiting, Collect("d1", "WS", "WS", T0)), waiting)
    with pytest.raises(DomainError, match="PICKED_UP"):
        decide(picked, defect())
    with pytest.raises(NotFound):
        decide(Parcel(), defect())


def test_the_same_defect_again_changes_nothing_and_another_reason_is_refused() -> None:
    parcel = at_hub()
    flagged = PARCEL.fold(decide(parcel, defect("WRONG_LABEL")), parcel)
    assert decide(flagged, defect("WRONG_LABEL")) == []  # charged once
    with pytest.raises(DomainError) as refused:
        decide(flagged, defect("WEIGHT_MISMATCH"))
    assert refused.value.code == "label-defect-recorded"
