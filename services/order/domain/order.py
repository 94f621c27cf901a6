"""The order aggregate (stream `order/<order id>`): `decide` hands each command to the module
of its concept (intake, cancellation, delivery) and announces every status move with
OrderStatusChanged; `evolve` folds the events into the state (`order_state`). The rule
numbers come from an `OrderPolicy`: `order_aggregate(policy)` builds the aggregate."""

from __future__ import annotations

from dataclasses import replace

from services.order.domain import order_cancellation, order_delivery, order_intake, order_stock
from services.order.domain.order_cancellation import (
    ApproveCancellation,
    CancelForMissedDispatch,
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
    PayOrder,
    ReviewOrder,
)
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import AwaitingStock, CancellationRequest, Order, refund_key
from services.order.domain.order_stock import (
    CancelForStockShortage,
    RecordStockReserved,
    RecordStockShortage,
)
from services.order.domain.packages import is_package_status, order_status
from shared.aggregate import Aggregate, NotFound
from shared.events import EventPayload
from shared.events.order import (
    ORDER_STREAM,
    AftersalesCaseRecorded,
    CancellationRejected,
    CancellationRequested,
    DispatchDeadlineMoved,
    OrderAwaitingStock,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderPaid,
    OrderPlaced,
    OrderPutOnHold,
    OrderRefunded,
    OrderReviewed,
    OrderStatusChanged,
    OrderStockReserved,
    PackageStatusRecorded,
    ShippingAddressChanged,
)

OrderCommand = (
    CreateOrder
    | PayOrder
    | EndRemorseWindow
    | ReviewOrder
    | ChangeShippingAddress
    | CancelOrder
    | ApproveCancellation
    | RejectCancellation
    | CancelUnpaid
    | CancelForMissedDispatch
    | RecordPackageStatus
    | ExtendDispatch
    | ConfirmReceipt
    | AutoComplete
    | RecordAftersalesCase
    | RecordRefund
    | RecordStockShortage
    | RecordStockReserved
    | CancelForStockShortage
)


def decide(state: Order, command: OrderCommand, policy: OrderPolicy) -> list[EventPayload]:
    """Decide, then add OrderStatusChanged when the events move the status."""
    events = _decide(state, command, policy)
    after = state
    for event in events:
        after = evolve(after, event)
    if events and after.status != state.status and after.order_id is not None:
        assert after.status is not None
        events.append(
            OrderStatusChanged(
                order_id=after.order_id,
                from_status=state.status,
                to_status=after.status,
                changed_at=command.now,
            )
        )
    return events


def _decide(state: Order, command: OrderCommand, policy: OrderPolicy) -> list[EventPayload]:
    if isinstance(command, CreateOrder):
        return order_intake.create(state, command, policy)
    order_id = state.order_id
    if not state.exists or order_id is None:
        raise NotFound("order-not-found", "no such order")
    match command:
        case PayOrder():
            return order_intake.pay(state, order_id, command, policy)
        case EndRemorseWindow():
            return order_intake.end_remorse_window(state, order_id, command, policy)
        case ReviewOrder():
            return order_intake.review(state, order_id, command, policy)
        case ChangeShippingAddress():
            return order_intake.change_shipping_address(state, order_id, command)
        case CancelOrder():
            return order_cancellation.cancel(state, order_id, command, policy)
        case ApproveCancellation():
            return order_cancellation.approve(state, order_id, command)
        case RejectCancellation():
            return order_cancellation.reject(state, order_id, command)
        case CancelUnpaid():
            return order_cancellation.cancel_unpaid(state, order_id, command)
        case CancelForMissedDispatch():
            return order_cancellation.cancel_for_missed_dispatch(state, order_id, command, policy)
        case RecordPackageStatus():
            return order_delivery.record_package_status(state, order_id, command)
        case ExtendDispatch():
            return order_delivery.extend_dispatch(state, order_id, command, policy)
        case ConfirmReceipt():
            return order_delivery.confirm_receipt(state, order_id, command)
        case AutoComplete():
            return order_delivery.auto_complete(state, order_id, command, policy)
        case RecordAftersalesCase():
            return order_delivery.record_aftersales_case(state, order_id, command)
        case RecordRefund():
            return order_delivery.record_refund(state, order_id, command)
        case RecordStockShortage():
            return order_stock.record_shortage(state, order_id, command, policy)
        case RecordStockReserved():
            return order_stock.record_reserved(state, order_id, command)
        case CancelForStockShortage():
            return order_stock.cancel_for_shortage(state, order_id, command)


def evolve(state: Order, event: EventPayload) -> Order:
    match event:
        case OrderCreated():
            return Order(
                status="UNPAID",
                order_id=event.order_id,
                buyer_id=event.buyer_id,
                seller_id=event.seller_id,
                items=tuple(event.items),
                shipping_address=event.shipping_address,
                shipping_option=event.shipping_option,
                payment_method=event.payment_method,
                subtotal=event.subtotal,
                shipping_fee=event.shipping_fee,
                total=event.total,
                created_at=event.created_at,
                pay_by=event.pay_by,
                programme=event.programme,
            )
        case OrderPaid():
            return replace(
                state,
                status="ON_HOLD",
                paid_at=event.paid_at,
                paid_amount=event.amount,
                transaction_id=event.transaction_id,
            )
        case OrderPutOnHold():
            return replace(
                state,
                status="ON_HOLD",
                remorse_until=event.remorse_until,
                review_passed=event.review_passed,
                review_failures=tuple(event.review_failures),
            )
        case OrderReviewed():
            return replace(state, operator_decision=event.decision)
        case OrderPlaced():
            return replace(
                state,
                status="AWAITING_SHIPMENT",
                placed_at=event.placed_at,
                dispatch_deadline=event.dispatch_deadline,
                deliver_by=event.deliver_by,
            )
        case ShippingAddressChanged():
            return replace(state, shipping_address=event.shipping_address)
        case CancellationRequested():
            request = CancellationRequest(
                requested_by=event.requested_by,
                reason_code=event.reason_code,
                note=event.note,
                requested_at=event.requested_at,
                auto_approve_at=event.auto_approve_at,
            )
            return replace(state, cancellation_request=request)
        case CancellationRejected():
            assert state.cancellation_request is not None
            rejected = replace(
                state.cancellation_request, status="REJECTED", rejection_reason=event.reason
            )
            return replace(state, cancellation_request=rejected)
        case OrderCancelled():
            return replace(state, status="CANCELLED", cancellation=event, awaiting_stock=None)
        case OrderAwaitingStock():
            waiting = AwaitingStock(event.since, event.cancel_at, tuple(event.shortfalls))
            return replace(state, awaiting_stock=waiting)
        case OrderStockReserved():
            return replace(state, awaiting_stock=None)
        case OrderStatusChanged():
            return replace(state, status=event.to_status)
        case OrderCompleted():
            return replace(state, status="COMPLETED", completed_at=event.completed_at)
        case PackageStatusRecorded(package_status=status) if is_package_status(status):
            statuses = {**state.package_statuses, event.package_id: status}
            moved = order_status(statuses.values())
            delivered_at = state.delivered_at
            if moved == "DELIVERED" and state.status != "DELIVERED":
                delivered_at = event.recorded_at
            return replace(
                state, package_statuses=statuses, status=moved, delivered_at=delivered_at
            )
        case AftersalesCaseRecorded(open=True):
            return replace(state, open_cases=state.open_cases | {event.request_id})
        case AftersalesCaseRecorded(open=False):
            return replace(state, open_cases=state.open_cases - {event.request_id})
        case OrderRefunded():
            return replace(
                state,
                refunds={**state.refunds, refund_key(event.request_id): event.amount.amount},
                refunded=event.refunded_total,
                fully_refunded=event.fully_refunded,
            )
        case DispatchDeadlineMoved():
            taken = state.extensions | ({event.extension_id} if event.extension_id else set())
            extended = replace(
                state,
                extra_dispatch_hours=state.extra_dispatch_hours + event.hours,
                extensions=frozenset(taken),
            )
            if event.dispatch_deadline is None:  # before placement: the hours are kept
                return extended
            return replace(
                extended, dispatch_deadline=event.dispatch_deadline, deliver_by=event.deliver_by
            )
    return state


def order_aggregate(policy: OrderPolicy) -> Aggregate[Order]:
    """The order aggregate deciding by `policy`'s numbers."""
    return Aggregate(
        name=ORDER_STREAM,
        initial=Order(),
        decide=lambda state, command: decide(state, command, policy),
        evolve=evolve,
        keys=lambda order: (order.order_id, order.seller_id or None),
    )


ORDER = order_aggregate(OrderPolicy())  # by the default policy
