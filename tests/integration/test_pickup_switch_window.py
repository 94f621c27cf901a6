"""A provider switch scheduled while an order of its window is being recorded: whichever
commits second sees the other, so the order is extended once (it used to be extended by
neither: a write skew that made an e2e test fail on a busy machine)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.pickup.domain.provider import Provider
from services.pickup.domain.subscription import ReviewSubscription
from services.pickup.domain.switch import ScheduleSwitch
from services.pickup.service import PickupService
from services.pickup.settings import PickupSettings
from shared.clock import SimulatedClock
from shared.events.common import Address
from shared.runtime import ServiceRuntime
from tests.conftest import eventually, make_settings

NOW = datetime(2026, 11, 20, 3, tzinfo=UTC)
HANOI = Address(
    recipient_name="陈伟",
    phone="+84 24 3826 1234",
    line1="36 Hàng Bạc",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)


async def _waiting_for_an_advisory_lock(conn) -> bool:  # type: ignore[no-untyped-def]
    waiting = await conn.execute(
        text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    )
    return waiting.scalar_one() > 0


async def _extensions(service: PickupService, order_id: uuid.UUID) -> int:
    async with service.runtime.db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT count(*) FROM events WHERE event_type = 'DispatchDeadlineExtended' "
                "AND order_id = :id"
            ),
            {"id": order_id},
        )
        return int(rows.scalar_one())


async def test_an_order_recorded_while_its_switch_is_scheduled_is_extended_once(
    infra, pickup_db
) -> None:
    runtime = ServiceRuntime("pickup", make_settings(infra, pickup_db), SimulatedClock(NOW))
    service = PickupService(runtime, PickupSettings())
    seller, warehouse_id, order_id = "shop-陈", uuid.uuid4(), uuid.uuid4()
    await service.seed_default_providers()  # SPX covers Hanoi
    async with runtime.db.transaction() as conn:
        await service.request_for_warehouse(conn, warehouse_id, seller, HANOI)
    requested, _ = await service.subscription(warehouse_id)
    assert requested.subscription_id is not None
    approve = ReviewSubscription(requested.subscription_id, True, "op", None, NOW)
    await service.on_subscription(warehouse_id, approve)  # a pickup seller of the region
    switch = ScheduleSwitch(
        uuid.uuid4(),
        "VN",
        "Hanoi",
        Provider(provider_code="GHN", name="GHN", tracking_prefix="GHN"),
        NOW + timedelta(days=1),
        "Asia/Ho_Chi_Minh",
        72,
        NOW,
    )
    try:
        async with runtime.db.transaction() as recording:
            # the order is recorded (it saw no switch yet) but not committed ...
            await service.order_created(recording, order_id, seller, NOW)
            # ... when the operator schedules the switch
            scheduling = asyncio.create_task(service.schedule_switch(switch))
            async with runtime.db.connect() as observer:
                await eventually(lambda: _waiting_for_an_advisory_lock(observer), within=10)
            assert not scheduling.done()
        await asyncio.wait_for(scheduling, 20)
        assert await _extensions(service, order_id) == 1
    finally:
        await runtime.db.close()
