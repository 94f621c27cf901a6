"""A seller's profile: registered once, changed by the whole, the same again changes nothing;
the label's sender is the seller's registered full name, and without a profile there is no
label."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.fulfillment.domain.seller_profile import (
    SELLER_PROFILE,
    KeepProfile,
    SellerProfile,
    decide,
)
from services.fulfillment.domain.warehouse import Warehouse
from shared.aggregate import DomainError
from shared.events.common import Address
from shared.events.fulfillment import (
    BusinessAddress,
    Contact,
    SellerProfileChanged,
    SellerProfileRegistered,
)
from tests.unit.fulfillment.scenarios import T0, WAREHOUSE, planned, ship

LEGAL_NAME = "东莞市洪梅镇某某贸易有限公司"
DONGGUAN = BusinessAddress(
    line1="洪梅镇某某路1号", city="东莞市", region="广东省", postal_code="523000", country="CN"
)
CONTACT = Contact(name="王小美", phone="+86 769 8888 0000")


def keep(shop_name: str = "小美家居", **changes: object) -> KeepProfile:
    values: dict[str, object] = dict(
        seller_id="s1",
        legal_name=LEGAL_NAME,
        shop_name=shop_name,
        address=DONGGUAN,
        contact=CONTACT,
        now=T0,
    )
    values.update(changes)
    return KeepProfile(**values)  # type: ignore[arg-type]


def test_the_first_profile_is_registered_then_changed_and_the_same_again_is_nothing() -> None:
    [registered] = decide(SellerProfile(), keep())
    assert isinstance(registered, SellerProfileRegistered)
    state = SELLER_PROFILE.fold([registered])
    assert state.exists and state.legal_name == LEGAL_NAME and state.address == DONGGUAN
    assert decide(state, keep(now=T0 + timedelta(hours=1))) == []
    [changed] = decide(state, keep("小美家居旗舰店"))
    assert isinstance(changed, SellerProfileChanged)
    assert SELLER_PROFILE.fold([changed], state).shop_name == "小美家居旗舰店"


def test_a_new_notification_email_or_language_is_a_change_of_the_profile() -> None:
    state = SELLER_PROFILE.fold(decide(SellerProfile(), keep()))
    assert (state.email, state.language) == (None, None)  # optional: no mail
    [changed] = decide(state, keep(email="xm@example.cn", language="zh-CN"))
    assert isinstance(changed, SellerProfileChanged)
    assert (changed.email, changed.language) == ("xm@example.cn", "zh-CN")
    mailed = SELLER_PROFILE.fold([changed], state)
    assert (mailed.email, mailed.language) == ("xm@example.cn", "zh-CN")
    assert decide(mailed, keep(email="xm@example.cn", language="zh-CN")) == []
    with pytest.raises(ValidationError):
        SellerProfileChanged(**{**changed.model_dump(), "email": "no-at-sign"})


def test_a_registered_address_needs_its_region() -> None:
    with pytest.raises(ValidationError, match="region"):
        BusinessAddress(line1="洪梅镇某某路1号", city="东莞市", postal_code="523000", country="CN")  # type: ignore[call-arg]


def test_the_label_sender_is_the_legal_name_at_the_warehouse_address_with_its_region() -> None:
    profile = SELLER_PROFILE.fold(decide(SellerProfile(), keep()))
    in_dongguan = Address(
        recipient_name="仓管",
        phone="+86 769 8888 0001",
        line1="洪梅镇仓库路8号",
        city="东莞市",
        region="广东省",
        postal_code="523000",
        country="CN",
    )
    warehouse = Warehouse(WAREHOUSE.warehouse_id, "s1", "东莞仓", in_dongguan, CONTACT)
    buyer = in_dongguan.model_copy(update={"recipient_name": "李雷", "city": "广州市"})
    state, package_id = planned(buyer)
    label = ship(state, package_id, profile=profile, warehouse=warehouse).label
    assert label.sender_name == LEGAL_NAME
    assert label.sender_address == ["洪梅镇仓库路8号", "东莞市", "广东省"]
    assert label.sender_region == "广东省"


def test_a_seller_without_a_profile_cannot_print_a_label() -> None:
    state, package_id = planned()
    with pytest.raises(DomainError, match="legal_name") as refused:
        ship(state, package_id, profile=None)
    assert refused.value.code == "seller-profile-missing" and refused.value.status == 409
    with pytest.raises(DomainError, match="no profile"):  # another seller's profile is not it
        ship(state, package_id, profile=SellerProfile("s2", LEGAL_NAME, "x", DONGGUAN, CONTACT))
