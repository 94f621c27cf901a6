"""The order service layer: runs the domain's commands through the shared event store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order import deadlines, payments, read_model
from services.order.domain.order import Order, OrderCommand, order_aggregate
from services.order.domain.order_intake import PayOrder
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.product import Product, ProductCommand, product_aggregate
from services.order.domain.seller_programme import (
    SELLER_PROGRAMME,
    SellerProgramme,
    SetProgramme,
)
from shared.aggregate import DomainError, Outcome, execute, load
from shared.events import Envelope
from shared.runtime import ServiceRuntime

Guard = Callable[[Order], None]


class OrderService:
    def __init__(self, runtime: ServiceRuntime, policy: OrderPolicy) -> None:
        self.runtime = runtime
        self.policy = policy
        self.orders = order_aggregate(policy)
        self.products = product_aggregate(policy.listing_review_markets)

    async def handle(
        self,
        order_id: uuid.UUID,
        command: OrderCommand,
        guard: Guard | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Order]:
        """Decide `command` on the order; `guard` sees the state first (ownership checks)."""
        return await execute(
            self.runtime.db,
            self.runtime.store,
            self.orders,
            self.orders.stream(order_id),
            command,
            guard=guard,
            after_append=self._after_append,
            max_attempts=self.runtime.settings.command_max_attempts,
            within=within,
        )

    async def pay(self, order_id: uuid.UUID, command: PayOrder, guard: Guard) -> Outcome[Order]:
        """Pay the order, and claim the payment's transaction in the same transaction: one
        that already paid another order is refused."""
        async with self.runtime.db.transaction() as conn:
            outcome = await self.handle(order_id, command, guard, within=conn)
            if not await payments.claim_transaction(conn, command.transaction_id, order_id):
                raise DomainError(
                    "transaction-already-used", "this payment transaction paid another order"
                )
        return outcome

    async def _after_append(
        self, conn: AsyncConnection, state: Order, events: list[Envelope]
    ) -> None:
        await deadlines.schedule_for(conn, state, events, self.policy)

    async def handle_product(self, command: ProductCommand) -> Outcome[Product]:
        """List, change or review the seller's product; the command names the seller and the
        SKU. The review queue's row changes in the same transaction."""
        return await execute(
            self.runtime.db,
            self.runtime.store,
            self.products,
            self.products.stream(command.seller_id, command.sku),
            command,
            after_append=read_model.record_listing,
            max_attempts=self.runtime.settings.command_max_attempts,
        )

    async def order(self, order_id: uuid.UUID) -> tuple[Order, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, self.orders, self.orders.stream(order_id))

    async def product(self, seller_id: str, sku: str) -> tuple[Product, int]:
        async with self.runtime.db.connect() as conn:
            stream = self.products.stream(seller_id, sku)
            return await load(conn, self.runtime.store, self.products, stream)

    async def listings(self, seller_id: str, skus: Iterable[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        async with self.runtime.db.connect() as conn:
            for sku in skus:
                product, _ = await load(
                    conn, self.runtime.store, self.products, self.products.stream(seller_id, sku)
                )
                if product.exists:
                    found[sku] = product
        return found

    async def set_programme(self, command: SetProgramme) -> Outcome[SellerProgramme]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            SELLER_PROGRAMME,
            SELLER_PROGRAMME.stream(command.seller_id),
            command,
            max_attempts=self.runtime.settings.command_max_attempts,
        )

    async def programme(self, seller_id: str) -> tuple[SellerProgramme, int]:
        """The seller's programme (LOCAL, version 0, for a seller never enrolled)."""
        async with self.runtime.db.connect() as conn:
            return await load(
                conn, self.runtime.store, SELLER_PROGRAMME, SELLER_PROGRAMME.stream(seller_id)
            )
