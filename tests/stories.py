"""Hand-built event journeys of orders, as the services would publish them (for the
analytics tests)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.events import Envelope, EventPayload
from shared.events.aftersales import AftersalesRequested, RefundIssued, RequestedItem, ReviewPosted
from shared.events.common import Address, LineItem
from shared.events.fulfillment import (
    Delivered,
    InTransit,
    Label,
    PackagesPlanned,
    PlannedPackage,
    ReadyToShip,
    SkuQuantity,
)
from shared.events.order import (
    OrderCancelled,
    OrderCreated,
    OrderPaid,
    OrderPlaced,
    OrderStatusChanged,
)
from shared.events.pickup import ArrivedAtHub, LabelDefectRecorded, PickedUp, RelabelFeeCharged
from shared.money import Money

T0 = datetime(2026, 11, 2, tzinfo=UTC)
ADDRESS = Address(
    recipient_name="Ann",
    phone="+1 555 0100",
    line1="1 Main",
    city="Springfield",
    postal_code="12345",
    country="US",
)


class Story:
    """The events of one order's journey, as the services would publish them."""

    def __init__(self, seller: str = "s1", total: int = 1000) -> None:
        self.order_id = uuid.uuid4()
        self.seller = seller
        self.total = total
        self.versions: dict[str, int] = defaultdict(int)
        self.envelopes: list[Envelope] = []
        self.package_id = uuid.uuid5(self.order_id, "p1")

    def add(self, stream: str, event: EventPayload, at: datetime) -> Story:
        self.versions[stream] += 1
        self.envelopes.append(
            Envelope(
                event_id=uuid.uuid4(),
                event_type=event.event_type,
                schema_version=event.schema_version,
                occurred_at=at,
                producer=event.topic_service,
                stream_id=stream,
                stream_version=self.versions[stream],
                order_id=self.order_id,
                seller_id=self.seller,
                payload=event.model_dump(mode="json"),
            )
        )
        return self

    def status(self, old: str | None, new: str, at: datetime) -> Story:
        event = OrderStatusChanged(
            order_id=self.order_id, from_status=old, to_status=new, changed_at=at
        )
        return self.add(f"order/{self.order_id}", event, at)

    def created(
        self, at: datetime = T0, buyer_email: str | None = None, buyer_language: str | None = None
    ) -> Story:
        money = Money(amount=self.total - 100, currency="USD")
        return self.add(
            f"order/{self.order_id}",
            OrderCreated(
                order_id=self.order_id,
                buyer_id="b1",
                seller_id=self.seller,
                items=[
                    LineItem(
                        sku="A",
                        title="A",
                        quantity=2,
                        unit_price=Money(amount=money.amount // 2, currency="USD"),
                        weight_g=100,
                    )
                ],
                shipping_address=ADDRESS,
                shipping_option="STANDARD",
                subtotal=money,
                shipping_fee=Money(amount=100, currency="USD"),
                total=Money(amount=self.total, currency="USD"),
                created_at=at,
                payment_method="CARD",
                pay_by=at + timedelta(minutes=30),
                buyer_email=buyer_email,
                buyer_language=buyer_language,
            ),
            at,
        )

    def paid(self, at: datetime, deadline: timedelta = timedelta(hours=72)) -> Story:
        order = f"order/{self.order_id}"
        total = Money(amount=self.total, currency="USD")
        paid = OrderPaid(order_id=self.order_id, amount=total, transaction_id="t", paid_at=at)
        self.add(order, paid, at)
        facts = {
            k: v
            for k, v in self.envelopes[0].payload.items()
            if k not in ("payment_method", "pay_by", "programme", "buyer_email", "buyer_language")
        }
        placed = OrderPlaced.model_validate(
            {
                **facts,
                "paid_at": at,
                "placed_at": at,
                "dispatch_deadline": at + deadline,
                "deliver_by": at + deadline + timedelta(days=6),
            }
        )
        self.add(order, placed, at)
        return self.status("UNPAID", "AWAITING_SHIPMENT", at)

    def shipped(
        self,
        at: datetime,
        late: bool = False,
        valid: bool = True,
        estimate: date | None = None,
        self_delivery: bool = False,
        carrier: str = "SPX",
    ) -> Story:
        stream = f"fulfillment/{self.order_id}"
        warehouse = uuid.uuid5(self.order_id, "wh")
        package = PlannedPackage(
            package_id=self.package_id,
            warehouse_id=warehouse,
            items=[SkuQuantity(sku="A", quantity=2)],
            weight_g=200,
            dispatch_deadline=at,
        )
        self.add(
            stream,
            PackagesPlanned(
                order_id=self.order_id, seller_id=self.seller, buyer_id="b1", packages=[package]
            ),
            at,
        )
        label = Label(
            order_number=str(self.order_id),
            package_id=self.package_id,
            tracking_number=None if self_delivery else "SPX1",
            carrier="SELLER" if self_delivery else carrier,
            handover_mode="SELF DELIVERY" if self_delivery else "PICK UP",
            recipient_name="Ann",
            recipient_phone="+1 555",
            recipient_address=["1 Main"],
            recipient_postal_code="1",
            recipient_country="US",
            sender_name="S",
            sender_address=["x"],
            sender_postal_code="1",
            sender_country="US",
            weight_g=200,
            items=[],
            cross_border=False,
        )
        ready = ReadyToShip(
            order_id=self.order_id,
            package_id=self.package_id,
            seller_id=self.seller,
            warehouse_id=warehouse,
            handover="SELF_DELIVERY" if self_delivery else "PICKUP",
            channel="SELF_DELIVERY" if self_delivery else "STANDARD",
            carrier="SELLER" if self_delivery else carrier,
            tracking_number=None if self_delivery else "SPX1",
            tracking_valid=valid and not self_delivery,
            shipping_fee=None,
            dispatch_deadline=at,
            ready_at=at,
            late=late,
            label=label,
            estimated_delivery_date=estimate,
        )
        self.add(stream, ready, at)
        return self.status("AWAITING_SHIPMENT", "AWAITING_COLLECTION", at)

    def collected(self, at: datetime) -> Story:
        event = PickedUp(
            order_id=self.order_id,
            package_id=self.package_id,
            seller_id=self.seller,
            warehouse_id=uuid.uuid5(self.order_id, "wh"),
            tracking_number="SPX1",
            provider_code="SPX",
            at=at,
            driver_id="d1",
            driver_provider="SPX",
        )
        return self.add(f"parcel/{self.package_id}", event, at)

    def _parcel_facts(self, at: datetime) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "package_id": self.package_id,
            "seller_id": self.seller,
            "warehouse_id": uuid.uuid5(self.order_id, "wh"),
            "tracking_number": "SPX1",
            "provider_code": "SPX",
            "at": at,
        }

    def at_hub(self, at: datetime, hub_id: str = "DG-HM-1") -> Story:
        event = ArrivedAtHub(**self._parcel_facts(at), hub_id=hub_id)
        return self.add(f"parcel/{self.package_id}", event, at)

    def label_defect(self, at: datetime, reason: str = "UNREADABLE_LABEL") -> Story:
        facts = self._parcel_facts(at)
        defect = LabelDefectRecorded(
            **facts, hub_id="DG-HM-1", reason_code=reason, recorded_by="op-1"
        )
        fee = RelabelFeeCharged(**facts, fee=Money(amount=500, currency="CNY"), reason_code=reason)
        return self.add(f"parcel/{self.package_id}", defect, at).add(
            f"parcel/{self.package_id}", fee, at
        )

    def delivered(self, at: datetime, proof: str | None = None) -> Story:
        stream = f"fulfillment/{self.order_id}"
        facts = {
            "order_id": self.order_id,
            "package_id": self.package_id,
            "tracking_number": "SPX1",
            "carrier": "SPX",
            "occurred_at": at,
        }
        self.add(stream, InTransit(**facts), at)
        self.add(stream, Delivered(**facts, proof=proof), at)
        return self.status("AWAITING_COLLECTION", "DELIVERED", at)

    def self_delivered(self, at: datetime, proof: str) -> Story:
        """The seller's record of its SELF_DELIVERY (see `shipped(self_delivery=True)`)."""
        delivered = Delivered(
            order_id=self.order_id,
            package_id=self.package_id,
            tracking_number=None,
            carrier="SELLER",
            occurred_at=at,
            proof=proof,
            recorded_by="SELLER",
        )
        self.add(f"fulfillment/{self.order_id}", delivered, at)
        return self.status("AWAITING_COLLECTION", "DELIVERED", at)

    def cancelled(self, at: datetime, seller_fault: bool) -> Story:
        event = OrderCancelled(
            order_id=self.order_id,
            cancelled_by="seller" if seller_fault else "buyer",
            actor_id="x",
            reason_code="OUT_OF_STOCK" if seller_fault else "CHANGED_MIND",
            seller_fault=seller_fault,
            cancelled_at=at,
            was_paid=True,
        )
        self.add(f"order/{self.order_id}", event, at)
        return self.status("AWAITING_SHIPMENT", "CANCELLED", at)

    def aftersales(
        self,
        at: datetime,
        rating: int | None = None,
        refund: int = 0,
        logistics_rating: int | None = None,
    ) -> Story:
        stream = f"aftersales/{self.order_id}"
        if refund:
            rid = uuid.uuid4()
            self.add(
                stream,
                AftersalesRequested(
                    order_id=self.order_id,
                    request_id=rid,
                    buyer_id="b1",
                    type="RETURN_AND_REFUND",
                    items=[RequestedItem(sku="A", quantity=1)],
                    reason_code="DAMAGED",
                    requested_at=at,
                    answer_due=at,
                    refund_amount=Money(amount=refund, currency="USD"),
                ),
                at,
            )
            self.add(
                stream,
                RefundIssued(
                    order_id=self.order_id,
                    request_id=rid,
                    amount=Money(amount=refund, currency="USD"),
                    reason="DAMAGED",
                    at=at,
                ),
                at,
            )
        if rating is not None:
            self.add(
                stream,
                ReviewPosted(
                    order_id=self.order_id,
                    buyer_id="b1",
                    seller_id=self.seller,
                    rating=rating,
                    at=at,
                    logistics_rating=logistics_rating,
                ),
                at,
            )
        return self


def journey() -> Story:
    h = timedelta(hours=1)
    return (
        Story()
        .created(T0)
        .paid(T0 + h)
        .shipped(T0 + 5 * h)
        .collected(T0 + 20 * h)
        .delivered(T0 + 50 * h)
        .aftersales(T0 + 60 * h, rating=2, refund=300)
    )
