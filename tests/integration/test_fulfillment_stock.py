"""Stock reservations against the real PostgreSQL: never oversold, never reserved twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.fulfillment.domain.fulfillment import RequestFulfillment
from services.fulfillment.domain.stock import AdjustStock
from services.fulfillment.domain.warehouse import RegisterWarehouse
from services.fulfillment.service import FulfillmentService
from services.fulfillment.settings import FulfillmentSettings
from shared.events.common import Address
from shared.events.fulfillment import Contact, FulfillmentRequested, OrderLine
from shared.runtime import ServiceRuntime
from tests.conftest import make_settings

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
ADDRESS = Address(
    recipient_name="A", phone="+1 555", line1="x", city="Hanoi", postal_code="100000", country="VN"
)


async def test_two_concurrent_orders_for_the_last_unit_exactly_one_is_reserved(
    infra, fulfillment_db
) -> None:
    runtime = ServiceRuntime("fulfillment", make_settings(infra, fulfillment_db))
    svc = FulfillmentService(runtime, FulfillmentSettings().default_pickup())
    try:
        warehouse_id = uuid.uuid4()
        await svc.on_warehouse(
            warehouse_id,
            RegisterWarehouse(
                warehouse_id, "s1", "Main", ADDRESS, Contact(name="W", phone="+84 1234"), T0
            ),
        )
        await svc.adjust_stock(AdjustStock("s1", warehouse_id, "LAST", 1, T0))
        orders = [uuid.uuid4() for _ in range(4)]
        for order_id in orders:
            await svc.on_fulfillment(
                order_id,
                RequestFulfillment(
                    FulfillmentRequested(
                        order_id=order_id,
                        seller_id="s1",
                        buyer_id="b1",
                        lines=[OrderLine(sku="LAST", quantity=1, weight_g=100)],
                        shipping_address=ADDRESS,
                        currency="VND",
                        placed_at=T0,
                        dispatch_deadline=T0 + timedelta(hours=72),
                        deliver_by=T0 + timedelta(days=9),
                    ),
                    T0,
                ),
            )
        gate = asyncio.Barrier(len(orders))

        async def reserve(order_id: uuid.UUID) -> None:
            async with runtime.db.transaction() as conn:
                await gate.wait()
                await svc.reserve_and_plan(conn, order_id)

        await asyncio.gather(*(reserve(o) for o in orders))
        stock = await svc.stock("s1")
        assert len([o for o in orders if stock.reservations.get(o)]) == 1
        assert stock.available() == {(warehouse_id, "LAST"): 0}
        statuses = sorted([(await svc.fulfillment(o))[0].status for o in orders])
        assert statuses == ["AWAITING_STOCK"] * 3 + ["PLANNED"]

        # a restock reserves for the waiting orders, first placed first, as far as it goes
        await svc.adjust_stock(AdjustStock("s1", warehouse_id, "LAST", 3, T0))
        stock = await svc.stock("s1")
        assert len([o for o in orders if stock.reservations.get(o)]) == 3
        async with runtime.db.connect() as conn:
            waiting = (
                await conn.execute(
                    text("SELECT count(*) FROM fulfillment_orders WHERE status = 'AWAITING_STOCK'")
                )
            ).scalar_one()
        assert waiting == 1
    finally:
        await runtime.db.close()


async def test_a_restock_serves_the_orders_waiting_for_stock_first_placed_first(
    infra, fulfillment_db
) -> None:
    runtime = ServiceRuntime("fulfillment", make_settings(infra, fulfillment_db))
    svc = FulfillmentService(runtime, FulfillmentSettings().default_pickup())
    try:
        warehouse_id = uuid.uuid4()
        await svc.on_warehouse(
            warehouse_id,
            RegisterWarehouse(
                warehouse_id, "s1", "Main", ADDRESS, Contact(name="W", phone="+84 1234"), T0
            ),
        )
        # placed one hour apart, the first placed with the greatest id
        orders = sorted((uuid.uuid4() for _ in range(3)), reverse=True)
        for hours, order_id in enumerate(orders):
            placed_at = T0 + timedelta(hours=hours)
            request = FulfillmentRequested(
                order_id=order_id,
                seller_id="s1",
                buyer_id="b1",
                lines=[OrderLine(sku="RARE", quantity=1, weight_g=100)],
                shipping_address=ADDRESS,
                currency="VND",
                placed_at=placed_at,
                dispatch_deadline=placed_at + timedelta(hours=72),
                deliver_by=placed_at + timedelta(days=9),
            )
            await svc.on_fulfillment(order_id, RequestFulfillment(request, placed_at))
            async with runtime.db.transaction() as conn:
                await svc.reserve_and_plan(conn, order_id)

        async def served() -> list[uuid.UUID]:
            stock = await svc.stock("s1")
            return [o for o in orders if stock.reservations.get(o)]

        assert await served() == []
        await svc.adjust_stock(AdjustStock("s1", warehouse_id, "RARE", 1, T0))
        assert await served() == orders[:1]
        await svc.adjust_stock(AdjustStock("s1", warehouse_id, "RARE", 2, T0))
        assert await served() == orders[:2]
    finally:
        await runtime.db.close()
