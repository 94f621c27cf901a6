"""The order service layer: runs domain commands through the shared event store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order import deadlines
from services.order.domain import (
    ORDER,
    PRODUCT,
    ChangeProduct,
    ListProduct,
    Order,
    OrderCommand,
    OrderPolicy,
    Product,
    decide_order,
    decide_product,
    order_stream,
    product_stream,
)
from shared.aggregate import Outcome, execute, load
from shared.events import Envelope, EventPayload
from shared.runtime import ServiceRuntime

Guard = Callable[[Order], None]


class OrderService:
    def __init__(self, runtime: ServiceRuntime, policy: OrderPolicy) -> None:
        self.runtime = runtime
        self.policy = policy

    async def handle(
        self,
        order_id: uuid.UUID,
        command: OrderCommand,
        guard: Guard | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Order]:
        """Decide `command` on the order; `guard` sees the state first (ownership checks)."""

        def decide(state: Order) -> list[EventPayload]:
            if guard is not None:
                guard(state)
            return decide_order(state, command, self.policy)

        return await execute(
            self.runtime.db,
            self.runtime.store,
            ORDER,
            order_stream(order_id),
            decide,
            now=command.now,
            after_append=self._after_append,
            max_attempts=self.runtime.settings.command_max_attempts,
            within=within,
        )

    async def _after_append(
        self, conn: AsyncConnection, state: Order, events: list[Envelope]
    ) -> None:
        await deadlines.schedule_for(conn, state, events, self.policy)

    async def order(self, order_id: uuid.UUID) -> tuple[Order, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, ORDER, order_stream(order_id))

    async def product(self, seller_id: str, sku: str) -> tuple[Product, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, PRODUCT, product_stream(seller_id, sku))

    async def listings(self, seller_id: str, skus: Iterable[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        async with self.runtime.db.connect() as conn:
            for sku in skus:
                product, _ = await load(
                    conn, self.runtime.store, PRODUCT, product_stream(seller_id, sku)
                )
                if product.exists:
                    found[sku] = product
        return found

    async def change_product(
        self, seller_id: str, sku: str, command: ListProduct | ChangeProduct
    ) -> Outcome[Product]:
        def decide(state: Product) -> list[EventPayload]:
            if isinstance(command, ChangeProduct) and not state.exists:
                state = Product(seller_id=seller_id, sku=sku)
            return decide_product(state, command)

        return await execute(
            self.runtime.db,
            self.runtime.store,
            PRODUCT,
            product_stream(seller_id, sku),
            decide,
            now=self.runtime.now(),
            max_attempts=self.runtime.settings.command_max_attempts,
        )
