"""What the pickup domain tests start from: providers, a requested subscription, a scheduled
switch, an awaited parcel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.pickup.domain import provider, subscription, switch
from services.pickup.domain.parcel import PARCEL, Parcel
from services.pickup.domain.provider import PROVIDER, ConfigureProvider, Provider
from services.pickup.domain.subscription import (
    SUBSCRIPTION,
    RequestSubscription,
    Subscription,
    SubscriptionCommand,
)
from services.pickup.domain.switch import SWITCH, ScheduleSwitch, Switch
from shared.events.common import Address
from shared.events.pickup import ParcelAwaited

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
WH = uuid.UUID(int=5)


def configured(code: str, coverage: list[tuple[str, str]]) -> Provider:
    command = ConfigureProvider(code, code, code, coverage, T0)
    return PROVIDER.fold(provider.decide(PROVIDER.initial, command))


SPX = configured("SPX", [("VN", "Ho Chi Minh City")])
GHN = configured("GHN", [("VN", "Hanoi")])


def address(city: str, country: str = "VN") -> Address:
    return Address(
        recipient_name="W",
        phone="+84 1",
        line1="1 St",
        city=city,
        postal_code="100000",
        country=country,
    )


def run(state: Subscription, command: SubscriptionCommand) -> Subscription:
    return SUBSCRIPTION.fold(subscription.decide(state, command), state)


def requested(provider: Provider | None = SPX) -> Subscription:
    return run(Subscription(), RequestSubscription(WH, "s1", provider, timedelta(hours=24), T0))


def scheduled_switch(to: str = "WS") -> Switch:
    scheduled = switch.decide(
        Switch(),
        ScheduleSwitch(
            uuid.UUID(int=9),
            "VN",
            "Hanoi",
            configured(to, []),
            T0 + timedelta(days=2),
            "UTC",
            72,
            T0,
        ),
    )
    return SWITCH.fold(scheduled)


def awaited(handover: str = "PICKUP") -> Parcel:
    event = ParcelAwaited(
        order_id=uuid.uuid4(),
        package_id=uuid.uuid4(),
        seller_id="s1",
        warehouse_id=WH,
        tracking_number="WS00000000018",
        provider_code="WS",
        at=T0,
        handover=handover,
        task_id=uuid.uuid4() if handover == "PICKUP" else None,
        run_date=None,
    )
    return PARCEL.fold([event])
