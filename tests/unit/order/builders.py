"""Orders in each phase for the order domain's tests, built by deciding commands (no
database, no clock)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from services.order.domain import order
from services.order.domain.order import ORDER, OrderCommand
from services.order.domain.order_delivery import RecordPackageStatus
from services.order.domain.order_intake import CreateOrder, EndRemorseWindow, OrderLine, PayOrder
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import Order
from services.order.domain.product import Product
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.fulfillment import PackageStatus
from shared.events.order import OrderPlaced, Programme
from shared.money import Money

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
POLICY = OrderPolicy()
USD = "USD"
ADDRESS = Address(
    recipient_name="Ann Lee",
    phone="+1 555 0100",
    line1="1 Main St",
    city="Springfield",
    postal_code="12345",
    country="US",
)


def decide(state: Order, command: OrderCommand, policy: OrderPolicy = POLICY) -> list[EventPayload]:
    return order.decide(state, command, policy)


def run(state: Order, command: OrderCommand) -> tuple[Order, list[Any]]:
    events = decide(state, command)
    return ORDER.fold(events, state), events


def listing(sku: str = "A", price: int = 1999, weight: int = 250, seller: str = "s1") -> Product:
    return Product(
        seller_id=seller,
        sku=sku,
        title=sku,
        price=Money(amount=price, currency=USD),
        weight_g=weight,
    )


def created(
    lines: Iterable[tuple[str, int]] = (("A", 2),),
    listings: Mapping[str, Product] | None = None,
    address: Address = ADDRESS,
    at: datetime = T0,
    programme: Programme = "LOCAL",
) -> Order:
    listings = listings or {sku: listing(sku) for sku, _ in lines}
    state, _ = run(
        Order(),
        CreateOrder(
            order_id=uuid.uuid4(),
            buyer_id="b1",
            seller_id="s1",
            lines=[OrderLine(s, q) for s, q in lines],
            listings=listings,
            shipping_address=address,
            shipping_option="STANDARD",
            payment_method="CARD",
            now=at,
            programme=programme,
        ),
    )
    return state


def paid(
    state: Order | None = None,
    at: datetime = T0 + timedelta(minutes=5),
    listings: Mapping[str, Product] | None = None,
) -> Order:
    state = state or created()
    assert state.total is not None
    if listings is None:
        listings = {i.sku: listing(i.sku, i.unit_price.amount, i.weight_g) for i in state.items}
    state, _ = run(
        state, PayOrder(amount=state.total, transaction_id="tx", listings=listings, now=at)
    )
    return state


def placed() -> Order:
    state = paid()
    assert state.remorse_until
    state, events = run(state, EndRemorseWindow(now=state.remorse_until))
    assert any(isinstance(e, OrderPlaced) for e in events)
    return state


def progress(state: Order, package: uuid.UUID, status: PackageStatus, hours: float = 1) -> Order:
    events = decide(state, RecordPackageStatus(package, status, T0 + timedelta(hours=hours)))
    return ORDER.fold(events, state)
