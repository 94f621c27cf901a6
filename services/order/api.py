"""Thin routes of the order service: authorise, load, decide, append."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Path, Query, Request, Response

from services.order import read_model
from services.order.domain.order_cancellation import (
    ApproveCancellation,
    CancelOrder,
    RejectCancellation,
)
from services.order.domain.order_delivery import ConfirmReceipt
from services.order.domain.order_intake import (
    ChangeShippingAddress,
    CreateOrder,
    OrderLine,
    PayOrder,
    ReviewOrder,
)
from services.order.domain.order_state import Order
from services.order.domain.product import ChangeProduct, ListProduct, ReviewProduct
from services.order.domain.seller_programme import SellerProgramme, SetProgramme
from services.order.schemas import (
    SKU_PATTERN,
    CancelIn,
    OrderIn,
    OrderOut,
    PaymentIn,
    ProductChangeIn,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductReviewIn,
    ProgrammeIn,
    ProgrammeOut,
    RejectIn,
    ReviewIn,
)
from services.order.service import Guard, OrderService
from shared.aggregate import NotFound
from shared.auth import Principal, require
from shared.events.common import Address
from shared.pagination import MAX_LIMIT
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["order"])


def service(request: Request) -> OrderService:
    svc: OrderService = request.app.state.order_service
    return svc


def can_see(principal: Principal, order: Order) -> bool:
    """A buyer sees its orders, a seller its shop's, an operator all."""
    if principal.is_operator:
        return True
    if principal.role == "buyer":
        return order.buyer_id == principal.sub
    if principal.role == "seller":
        return order.seller_id == principal.seller_id
    return False


def owned_by(principal: Principal) -> Guard:
    def guard(order: Order) -> None:
        if not order.exists or not can_see(principal, order):
            raise NotFound("order-not-found", "no such order")

    return guard


# --- products -------------------------------------------------------------------------------


@router.post("/products", status_code=201, response_model=ProductOut)
async def list_product(
    body: ProductIn, request: Request, seller: Principal = require("seller")
) -> ProductOut:
    assert seller.seller_id
    svc = service(request)
    command = ListProduct(
        seller_id=seller.seller_id,
        sku=body.sku,
        title=body.title,
        price=body.price,
        weight_g=body.weight_g,
        dimensions=body.dimensions,
        market=body.market,
        now=svc.runtime.now(),
    )
    outcome = await svc.handle_product(command)
    return ProductOut.of(outcome.state, outcome.version)


@router.put("/products/{sku}", response_model=ProductOut)
async def change_product(
    body: ProductChangeIn,
    request: Request,
    sku: str = Path(pattern=SKU_PATTERN),
    seller: Principal = require("seller"),
) -> ProductOut:
    assert seller.seller_id
    if not body.model_fields_set:
        raise Problem(422, "Validation failed", "nothing to change", code="validation-failed")
    svc = service(request)
    command = ChangeProduct(
        seller_id=seller.seller_id,
        sku=sku,
        title=body.title,
        price=body.price,
        weight_g=body.weight_g,
        dimensions=body.dimensions,
        now=svc.runtime.now(),
    )
    outcome = await svc.handle_product(command)
    return ProductOut.of(outcome.state, outcome.version)


@router.get("/products/{sku}", response_model=ProductOut)
async def get_product(
    request: Request,
    sku: str = Path(pattern=SKU_PATTERN),
    seller_id: str | None = Query(None, max_length=100),
    caller: Principal = require("buyer", "seller", "operator", "carrier", "driver"),
) -> ProductOut:
    seller_id = seller_id or caller.seller_id
    if not seller_id:
        raise Problem(422, "Validation failed", "seller_id is required", code="validation-failed")
    """The listing; its review only to its seller and operators. A listing not approved
    yet (or rejected) is in nobody else's catalogue."""
    product, version = await service(request).product(seller_id, sku)
    own = caller.is_operator or caller.seller_id == seller_id
    if not product.exists or not (own or product.orderable):
        raise NotFound("product-not-found", f"seller {seller_id} does not list SKU {sku}")
    return ProductOut.of(product, version, with_review=own)


@router.post("/products/{sku}/review", response_model=ProductOut)
async def review_product(
    body: ProductReviewIn,
    request: Request,
    sku: str = Path(pattern=SKU_PATTERN),
    seller_id: str = Query(min_length=1, max_length=100),
    operator: Principal = require("operator"),
) -> ProductOut:
    """Approve (buyers may order it from now on) or reject (with a `reason` for the seller)
    a listing PENDING_REVIEW."""
    svc = service(request)
    command = ReviewProduct(
        seller_id=seller_id,
        sku=sku,
        decision=body.decision,
        reviewer_id=operator.sub,
        reason=body.reason,
        now=svc.runtime.now(),
    )
    outcome = await svc.handle_product(command)
    return ProductOut.of(outcome.state, outcome.version)


@router.get("/products", response_model=ProductPage)
async def list_listings_in_review(
    request: Request,
    status: Literal["PENDING_REVIEW", "APPROVED", "REJECTED"] | None = None,
    market: str | None = Query(None, pattern=r"^[A-Z]{2}$"),
    seller_id: str | None = Query(None, min_length=1, max_length=100),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    operator: Principal = require("operator"),
) -> ProductPage:
    """The listings that went to review (e.g. `?status=PENDING_REVIEW`), longest waiting
    first."""
    async with service(request).runtime.db.connect() as conn:
        items, next_cursor = await read_model.listings_in_review(
            conn, status, market, seller_id, limit, cursor
        )
    return ProductPage.model_validate({"items": items, "next_cursor": next_cursor})


# --- sellers' programmes --------------------------------------------------------------------


def _programme_out(seller_id: str, state: SellerProgramme, version: int) -> ProgrammeOut:
    return ProgrammeOut(
        seller_id=seller_id, programme=state.programme, set_at=state.set_at, version=version
    )


@router.put("/sellers/{seller_id}/programme", response_model=ProgrammeOut)
async def set_programme(
    body: ProgrammeIn,
    request: Request,
    seller_id: str = Path(min_length=1, max_length=100),
    operator: Principal = require("operator"),
) -> ProgrammeOut:
    """Enrol the seller in a programme (LOCAL or CROSS_BORDER): its orders created from now
    on take that programme's dispatch SLA (SHOPFLOW_ORDER_DISPATCH_SLA_HOURS,
    ..._CROSS_BORDER_DISPATCH_SLA_HOURS, ..._DISPATCH_SLA_HOURS_BY_MARKET)."""
    svc = service(request)
    command = SetProgramme(seller_id, body.programme, operator.sub, svc.runtime.now())
    outcome = await svc.set_programme(command)
    return _programme_out(seller_id, outcome.state, outcome.version)


@router.get("/sellers/{seller_id}/programme", response_model=ProgrammeOut)
async def get_programme(
    request: Request,
    seller_id: str = Path(min_length=1, max_length=100),
    caller: Principal = require("seller", "operator"),
) -> ProgrammeOut:
    if not caller.is_operator and caller.seller_id != seller_id:
        raise NotFound("seller-not-found", "no such seller")
    state, version = await service(request).programme(seller_id)
    return _programme_out(seller_id, state, version)


# --- orders ---------------------------------------------------------------------------------


@router.post("/orders", status_code=201, response_model=OrderOut)
async def create_order(
    body: OrderIn, request: Request, buyer: Principal = require("buyer")
) -> OrderOut:
    svc = service(request)
    order_id = uuid.uuid4()
    command = CreateOrder(
        order_id=order_id,
        buyer_id=buyer.sub,
        seller_id=body.seller_id,
        lines=[OrderLine(sku=i.sku, quantity=i.quantity) for i in body.items],
        listings=await svc.listings(body.seller_id, [i.sku for i in body.items]),
        shipping_address=body.shipping_address,
        shipping_option=body.shipping_option,
        payment_method=body.payment_method,
        now=svc.runtime.now(),
        programme=(await svc.programme(body.seller_id))[0].programme,
        buyer_email=body.buyer_email,
        buyer_language=body.buyer_language,
    )
    outcome = await svc.handle(order_id, command)
    return OrderOut.of(outcome.state, outcome.version)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(
    order_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> OrderOut:
    order, version = await service(request).order(order_id)
    owned_by(caller)(order)
    return OrderOut.of(order, version)


@router.post("/orders/{order_id}/payments", response_model=OrderOut)
async def pay_order(
    order_id: uuid.UUID, body: PaymentIn, request: Request, buyer: Principal = require("buyer")
) -> OrderOut:
    svc = service(request)
    order, _ = await svc.order(order_id)
    owned_by(buyer)(order)
    command = PayOrder(
        amount=body.amount,
        transaction_id=body.transaction_id,
        listings=await svc.listings(order.seller_id, [i.sku for i in order.items]),
        now=svc.runtime.now(),
    )
    outcome = await svc.pay(order_id, command, owned_by(buyer))
    return OrderOut.of(outcome.state, outcome.version)


@router.post("/orders/{order_id}/review", response_model=OrderOut)
async def review_order(
    order_id: uuid.UUID, body: ReviewIn, request: Request, operator: Principal = require("operator")
) -> OrderOut:
    svc = service(request)
    command = ReviewOrder(
        decision=body.decision, reviewer_id=operator.sub, note=body.note, now=svc.runtime.now()
    )
    outcome = await svc.handle(order_id, command, owned_by(operator))
    return OrderOut.of(outcome.state, outcome.version)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses={202: {"description": "a cancellation request is pending the seller's answer"}},
)
async def cancel_order(
    order_id: uuid.UUID,
    body: CancelIn,
    request: Request,
    response: Response,
    caller: Principal = require("buyer", "seller", "operator"),
) -> OrderOut:
    svc = service(request)
    command = CancelOrder(
        actor=caller.role,  # type: ignore[arg-type]
        actor_id=caller.sub,
        reason_code=body.reason_code,
        note=body.note,
        now=svc.runtime.now(),
    )
    outcome = await svc.handle(order_id, command, owned_by(caller))
    if outcome.state.status != "CANCELLED":
        response.status_code = 202
    return OrderOut.of(outcome.state, outcome.version)


@router.post("/orders/{order_id}/cancellation-request/approve", response_model=OrderOut)
async def approve_cancellation(
    order_id: uuid.UUID, request: Request, seller: Principal = require("seller")
) -> OrderOut:
    svc = service(request)
    command = ApproveCancellation(actor_id=seller.sub, now=svc.runtime.now())
    outcome = await svc.handle(order_id, command, owned_by(seller))
    return OrderOut.of(outcome.state, outcome.version)


@router.post("/orders/{order_id}/cancellation-request/reject", response_model=OrderOut)
async def reject_cancellation(
    order_id: uuid.UUID, body: RejectIn, request: Request, seller: Principal = require("seller")
) -> OrderOut:
    svc = service(request)
    command = RejectCancellation(actor_id=seller.sub, reason=body.reason, now=svc.runtime.now())
    outcome = await svc.handle(order_id, command, owned_by(seller))
    return OrderOut.of(outcome.state, outcome.version)


@router.put("/orders/{order_id}/shipping-address", response_model=OrderOut)
async def change_shipping_address(
    order_id: uuid.UUID, body: Address, request: Request, buyer: Principal = require("buyer")
) -> OrderOut:
    svc = service(request)
    command = ChangeShippingAddress(shipping_address=body, now=svc.runtime.now())
    outcome = await svc.handle(order_id, command, owned_by(buyer))
    return OrderOut.of(outcome.state, outcome.version)


@router.post("/orders/{order_id}/confirm-receipt", response_model=OrderOut)
async def confirm_receipt(
    order_id: uuid.UUID, request: Request, buyer: Principal = require("buyer")
) -> OrderOut:
    svc = service(request)
    outcome = await svc.handle(order_id, ConfirmReceipt(now=svc.runtime.now()), owned_by(buyer))
    return OrderOut.of(outcome.state, outcome.version)
