"""The order service's aggregates and reactions for the shared contract test: realistic
histories made by deciding commands (folding as they go), and every reactions dict the app
registers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from services.order.domain.order import ORDER
from services.order.domain.order_cancellation import (
    ApproveCancellation,
    CancelOrder,
    CancelUnpaid,
    RejectCancellation,
)
from services.order.domain.order_delivery import (
    AutoComplete,
    ConfirmReceipt,
    ExtendDispatch,
    RecordAftersalesCase,
    RecordPackageStatus,
    RecordRefund,
)
from services.order.domain.order_intake import (
    ChangeShippingAddress,
    CreateOrder,
    EndRemorseWindow,
    OrderLine,
    PayOrder,
    ReviewOrder,
)
from services.order.domain.order_stock import (
    CancelForStockShortage,
    RecordStockReserved,
    RecordStockShortage,
)
from services.order.domain.product import (
    PRODUCT,
    ChangeProduct,
    ListProduct,
    Product,
    ReviewProduct,
    product_aggregate,
)
from services.order.domain.seller_programme import SELLER_PROGRAMME, SetProgramme
from services.order.handlers import aftersales_reactions, fulfillment_reactions, pickup_reactions
from services.order.service import OrderService
from shared.aggregate import Aggregate
from shared.consumer import Reaction
from shared.events import EventPayload
from shared.events.common import Address, Dimensions
from shared.events.fulfillment import Shortfall
from shared.money import Money

S = TypeVar("S")
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
SELLER = "seller-1"
ADDRESS = Address(
    recipient_name="Ann Lee",
    phone="+1 555 0100",
    line1="1 Main St",
    city="Springfield",
    postal_code="12345",
    country="US",
)


def decided(aggregate: Aggregate[S], commands: Sequence[Any]) -> list[EventPayload]:
    """The events of deciding `commands` one after the other on a new stream."""
    assert aggregate.decide is not None
    state, events = aggregate.initial, []
    for command in commands:
        new = list(aggregate.decide(state, command))
        state = aggregate.fold(new, state)
        events += new
    return events


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def usd(amount: int) -> Money:
    return Money(amount=amount, currency="USD")


def listing(sku: str, price: int, weight_g: int) -> Product:
    return Product(seller_id=SELLER, sku=sku, title=sku, price=usd(price), weight_g=weight_g)


LISTINGS = {"MUG": listing("MUG", 1299, 400), "TEA": listing("TEA", 850, 250)}


def create(order_id: uuid.UUID, now: datetime) -> CreateOrder:
    return CreateOrder(
        order_id=order_id,
        buyer_id="buyer-1",
        seller_id=SELLER,
        lines=[OrderLine("MUG", 2), OrderLine("TEA", 3)],
        listings=LISTINGS,
        shipping_address=ADDRESS,
        shipping_option="STANDARD",
        payment_method="CARD",
        now=now,
    )


# 2 x 1299 + 3 x 850 = 5148; 1.55 kg: 300 + 100 shipping
TOTAL = usd(5148 + 400)


MUG_BOX = Dimensions(length_mm=100, width_mm=100, height_mm=120)


def product_history() -> list[EventPayload]:
    return decided(
        PRODUCT,
        [
            ListProduct(SELLER, "MUG", "Mug", usd(1299), 400, now=at(0)),
            ChangeProduct(SELLER, "MUG", now=at(1), price=usd(1399)),
            ChangeProduct(
                SELLER,
                "MUG",
                now=at(2),
                dimensions=Dimensions(length_mm=100, width_mm=100, height_mm=120),
            ),
            ChangeProduct(SELLER, "MUG", now=at(3), title="Big mug", weight_g=450),
        ],
    )


REVIEWED_PRODUCT = product_aggregate({"CN"})


def reviewed_product_history() -> list[EventPayload]:
    """Listed in a market that requires review, rejected, changed (resubmitted), approved,
    its price changed (no review), its title changed (reviewed again)."""
    return decided(
        REVIEWED_PRODUCT,
        [
            ListProduct(SELLER, "FAN", "Fan", usd(2599), 900, now=at(0), market="CN"),
            ReviewProduct(SELLER, "FAN", "REJECT", "operator-1", "no brand", now=at(1)),
            ChangeProduct(SELLER, "FAN", now=at(2), title="Acme fan"),
            ReviewProduct(SELLER, "FAN", "APPROVE", "operator-1", None, now=at(3)),
            ChangeProduct(SELLER, "FAN", now=at(4), price=usd(2499)),
            ChangeProduct(SELLER, "FAN", now=at(5), title="Acme desk fan"),
        ],
    )


def shipping_order_history() -> list[EventPayload]:
    """Paid at a changed price (held for an operator), approved, placed after an extension,
    re-addressed, a cancellation request rejected, its packages planned (one planned again,
    one combined with another order's and taken apart), the deadline extended, shipping."""
    order_id = uuid.uuid4()
    changed_price = {**LISTINGS, "TEA": listing("TEA", 900, 250)}
    a, b, c, combined = (uuid.uuid4() for _ in range(4))
    new_address = ADDRESS.model_copy(update={"line1": "2 Elm St"})
    return decided(
        ORDER,
        [
            create(order_id, at(0)),
            PayOrder(TOTAL, "tx-1", changed_price, now=at(0.2)),
            ExtendDispatch(24, "provider switch", now=at(0.5)),
            ReviewOrder("APPROVE", "operator-1", "price change accepted", now=at(0.7)),
            EndRemorseWindow(now=at(1.2)),
            ChangeShippingAddress(new_address, now=at(2)),
            CancelOrder("buyer", "buyer-1", "CHANGED_MIND", None, now=at(3)),
            RejectCancellation("seller-user", "packed already", now=at(4)),
            RecordPackageStatus(a, "PLANNED", now=at(5)),
            RecordPackageStatus(b, "PLANNED", now=at(5)),
            RecordPackageStatus(a, "REPLACED", now=at(6)),
            RecordPackageStatus(c, "PLANNED", now=at(6)),
            RecordPackageStatus(b, "COMBINED", now=at(6.5)),
            RecordPackageStatus(combined, "PLANNED", now=at(6.5)),
            RecordPackageStatus(combined, "UNCOMBINED", now=at(7)),
            RecordPackageStatus(b, "PLANNED", now=at(7)),
            ExtendDispatch(12, "provider switch", now=at(8)),
            RecordPackageStatus(b, "READY_TO_SHIP", now=at(10)),
            RecordPackageStatus(c, "READY_TO_SHIP", now=at(11)),
            RecordPackageStatus(c, "READY_TO_SHIP", now=at(11.5)),  # a repeat: nothing
            RecordPackageStatus(b, "PICKED_UP", now=at(20)),
        ],
    )


def delivered_order_history() -> list[EventPayload]:
    """Placed, shipped, a failed delivery attempt, delivered; an after-sales case holds the
    automatic completion until it closes, with a partial refund."""
    order_id, package, case = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    return decided(
        ORDER,
        [
            create(order_id, at(0)),
            PayOrder(TOTAL, "tx-6", LISTINGS, now=at(0.1)),
            EndRemorseWindow(now=at(1.1)),
            RecordPackageStatus(package, "PLANNED", now=at(2)),
            RecordPackageStatus(package, "READY_TO_SHIP", now=at(5)),
            RecordPackageStatus(package, "IN_TRANSIT", now=at(20)),
            RecordPackageStatus(package, "PICKED_UP", now=at(21)),  # late: an earlier phase
            RecordPackageStatus(package, "DELIVERY_FAILED", now=at(50)),
            RecordPackageStatus(package, "DELIVERED", now=at(72)),
            RecordPackageStatus(uuid.uuid4(), "PLANNED", now=at(90)),  # an exchange's parcel
            RecordAftersalesCase(case, open=True, now=at(80)),
            AutoComplete(now=at(72 + 24 * 7)),  # held: the case is open
            RecordRefund(case, usd(850), now=at(90)),
            RecordAftersalesCase(case, open=False, now=at(91)),
            AutoComplete(now=at(72 + 24 * 7)),
        ],
    )


def cancelled_order_histories() -> list[list[EventPayload]]:
    """Cancelled by the buyer in the remorse window (then refunded); by a request approved
    when unanswered; not paid in time; rejected by an operator. And one the buyer received."""
    in_window, by_request, unpaid, rejected, received = (uuid.uuid4() for _ in range(5))
    package = uuid.uuid4()
    return [
        decided(
            ORDER,
            [
                create(in_window, at(0)),
                PayOrder(TOTAL, "tx-2", LISTINGS, now=at(0.1)),
                CancelOrder("buyer", "buyer-1", "FOUND_CHEAPER", "sorry", now=at(0.5)),
                RecordRefund(None, TOTAL, now=at(1)),
            ],
        ),
        decided(
            ORDER,
            [
                create(by_request, at(0)),
                PayOrder(TOTAL, "tx-3", LISTINGS, now=at(0.1)),
                EndRemorseWindow(now=at(1.1)),
                CancelOrder("buyer", "buyer-1", "WRONG_ADDRESS", None, now=at(2)),
                ApproveCancellation("system", now=at(26), auto=True),
            ],
        ),
        decided(
            ORDER,
            [
                create(unpaid, at(0)),
                ChangeShippingAddress(ADDRESS.model_copy(update={"city": "Shelbyville"}), at(0.1)),
                CancelUnpaid(now=at(0.4)),  # not due yet: nothing
                CancelUnpaid(now=at(1)),
            ],
        ),
        decided(
            ORDER,
            [
                create(rejected, at(0)),
                PayOrder(TOTAL, "tx-4", {}, now=at(0.1)),
                ReviewOrder("REJECT", "operator-1", "unlisted", now=at(0.3)),
            ],
        ),
        decided(
            ORDER,
            [
                create(received, at(0)),
                PayOrder(TOTAL, "tx-5", LISTINGS, now=at(0.1)),
                EndRemorseWindow(now=at(1.1)),
                RecordPackageStatus(package, "PLANNED", now=at(2)),
                RecordPackageStatus(package, "READY_TO_SHIP", now=at(3)),
                RecordPackageStatus(package, "DELIVERED", now=at(40)),
                ConfirmReceipt(now=at(41)),
            ],
        ),
    ]


def stock_shortage_histories() -> list[list[EventPayload]]:
    """Short of stock, less short after a partial restock, then reserved; and one still short
    when its wait ran out, cancelled at the seller's fault."""
    restocked, never = uuid.uuid4(), uuid.uuid4()
    short = [Shortfall(sku="TEA", requested=2, available=0)]
    less_short = [Shortfall(sku="TEA", requested=2, available=1)]
    return [
        decided(
            ORDER,
            [
                create(restocked, at(0)),
                PayOrder(TOTAL, "tx-7", LISTINGS, now=at(0.1)),
                EndRemorseWindow(now=at(1.1)),
                RecordStockShortage(short, now=at(1.2)),
                RecordStockShortage(short, now=at(1.3)),  # the same: nothing
                RecordStockShortage(less_short, now=at(5)),
                RecordStockReserved(now=at(6)),
                RecordPackageStatus(uuid.uuid4(), "PLANNED", now=at(6)),
            ],
        ),
        decided(
            ORDER,
            [
                create(never, at(0)),
                PayOrder(TOTAL, "tx-8", LISTINGS, now=at(0.1)),
                EndRemorseWindow(now=at(1.1)),
                RecordStockShortage(short, now=at(1.2)),
                CancelForStockShortage(now=at(10)),  # not due yet: nothing
                CancelForStockShortage(now=at(1.2 + 48)),
            ],
        ),
    ]


def seller_programme_history() -> list[EventPayload]:
    return decided(
        SELLER_PROGRAMME,
        [
            SetProgramme("shop-1", "CROSS_BORDER", "operator-1", at(0)),
            SetProgramme("shop-1", "CROSS_BORDER", "operator-1", at(1)),  # already so
            SetProgramme("shop-1", "LOCAL", "operator-1", at(2)),
        ],
    )


HISTORIES: list[tuple[Aggregate[Any], list[EventPayload]]] = [
    (PRODUCT, product_history()),
    (REVIEWED_PRODUCT, reviewed_product_history()),
    (SELLER_PROGRAMME, seller_programme_history()),
    (ORDER, shipping_order_history()),
    (ORDER, delivered_order_history()),
    *((ORDER, history) for history in cancelled_order_histories()),
    *((ORDER, history) for history in stock_shortage_histories()),
]

_NO_SERVICE = cast(OrderService, None)  # the reactions are only inspected for their keys
_FACTORIES: list[Callable[[OrderService], Mapping[type[EventPayload], Reaction]]] = [
    fulfillment_reactions,
    pickup_reactions,
    aftersales_reactions,
]
REACTIONS: list[Mapping[type[EventPayload], Reaction]] = [
    factory(_NO_SERVICE) for factory in _FACTORIES
]
