"""Thin routes of the aftersales service: authorise, load, decide, append."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import APIRouter, Query, Request

from services.aftersales import read_model
from services.aftersales.domain.complaint import FileComplaint, ResolveComplaint
from services.aftersales.domain.ledger import Command, PostReview
from services.aftersales.domain.ledger_state import Ledger
from services.aftersales.domain.requests import Answer, Escalate, OpenRequest, Receive, ShipReturn
from services.aftersales.domain.return_policy import SetReturnPolicy
from services.aftersales.schemas import (
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    DecideIn,
    ReceiveIn,
    RejectIn,
    RequestIn,
    RequestOut,
    RequestPage,
    ResolveIn,
    ReturnPolicyIn,
    ReturnPolicyOut,
    ReturnShipmentIn,
    ReviewIn,
    ReviewOut,
)
from services.aftersales.service import AftersalesService
from shared.aggregate import NotFound
from shared.auth import Principal, require
from shared.events.aftersales import ComplaintStatus, RequestedItem, RequestStatus
from shared.pagination import MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["aftersales"])


def service(request: Request) -> AftersalesService:
    svc: AftersalesService = request.app.state.aftersales_service
    return svc


def _sees(caller: Principal, ledger: Ledger) -> bool:
    return (
        caller.is_operator
        or (caller.role == "buyer" and ledger.buyer_id == caller.sub)
        or (caller.role == "seller" and ledger.seller_id == caller.seller_id)
    )


def _owner_guard(caller: Principal) -> Callable[[Ledger], None]:
    def guard(ledger: Ledger) -> None:
        if ledger.order_id is None or not _sees(caller, ledger):
            raise NotFound("request-not-found", "no such after-sales request")

    return guard


async def _act(
    svc: AftersalesService, request_id: uuid.UUID, caller: Principal, command: Command
) -> RequestOut:
    """Run a command on the request's ledger, for a caller who may see the request."""
    order_id = await svc.order_of_request(request_id)
    if order_id is None:
        raise NotFound("request-not-found", "no such after-sales request")
    outcome = await svc.on_ledger(order_id, command, guard=_owner_guard(caller))
    return RequestOut.of(outcome.state, outcome.state.cases[request_id], outcome.version)


@router.post("/aftersales/requests", response_model=RequestOut, status_code=201)
async def open_request(
    body: RequestIn, request: Request, buyer: Principal = require("buyer")
) -> RequestOut:
    """Ask for a refund, a return and refund, an exchange, or a repair (where the seller offers
    it) of some of an order's items, within the seller's return policy."""
    svc = service(request)
    request_id = uuid.uuid4()
    command = OpenRequest(
        request_id,
        buyer.sub,
        body.type,
        [RequestedItem(sku=i.sku, quantity=i.quantity) for i in body.items],
        body.reason_code,
        body.description,
        body.evidence_urls,
        svc.runtime.now(),
    )
    outcome = await svc.open_request(body.order_id, command)
    return RequestOut.of(outcome.state, outcome.state.cases[request_id], outcome.version)


@router.get("/aftersales/requests", response_model=RequestPage)
async def list_requests(
    request: Request,
    order_id: uuid.UUID | None = None,
    status: RequestStatus | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = require("buyer", "seller", "operator"),
) -> RequestPage:
    """A buyer's own requests, a seller's shop's, or (operator) all; oldest first."""
    owner = {
        "buyer": read_model.Owner("buyer_id", caller.sub),
        "seller": read_model.Owner("seller_id", caller.seller_id),
    }.get(caller.role, read_model.Owner(None))
    async with service(request).runtime.db.connect() as conn:
        items, next_cursor = await read_model.requests(conn, owner, order_id, status, limit, cursor)
    return RequestPage.model_validate({"items": items, "next_cursor": next_cursor})


@router.get("/aftersales/requests/{request_id}", response_model=RequestOut)
async def get_request(
    request_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> RequestOut:
    svc = service(request)
    order_id = await svc.order_of_request(request_id)
    ledger, version = await svc.ledger(order_id) if order_id else (Ledger(), 0)
    case = ledger.cases.get(request_id)
    if case is None or not _sees(caller, ledger):
        raise NotFound("request-not-found", "no such after-sales request")
    return RequestOut.of(ledger, case, version)


@router.post("/aftersales/requests/{request_id}/approve", response_model=RequestOut)
async def approve(
    request_id: uuid.UUID, request: Request, seller: Principal = require("seller")
) -> RequestOut:
    """A refund-only request is refunded at once; a return waits for the buyer's parcel."""
    svc = service(request)
    command = Answer(request_id, True, seller.sub, None, svc.runtime.now())
    return await _act(svc, request_id, seller, command)


@router.post("/aftersales/requests/{request_id}/reject", response_model=RequestOut)
async def reject(
    request_id: uuid.UUID, body: RejectIn, request: Request, seller: Principal = require("seller")
) -> RequestOut:
    svc = service(request)
    command = Answer(request_id, False, seller.sub, body.reason, svc.runtime.now())
    return await _act(svc, request_id, seller, command)


@router.post("/aftersales/requests/{request_id}/escalate", response_model=RequestOut)
async def escalate(
    request_id: uuid.UUID, request: Request, buyer: Principal = require("buyer")
) -> RequestOut:
    """The buyer takes a rejection to the platform; an operator decides."""
    svc = service(request)
    return await _act(svc, request_id, buyer, Escalate(request_id, svc.runtime.now()))


@router.post("/aftersales/requests/{request_id}/decide", response_model=RequestOut)
async def decide_escalated(
    request_id: uuid.UUID,
    body: DecideIn,
    request: Request,
    operator: Principal = require("operator"),
) -> RequestOut:
    svc = service(request)
    command = Answer(
        request_id,
        body.approve,
        operator.sub,
        body.reason or ("" if body.approve else "rejected by the platform"),
        svc.runtime.now(),
        escalated_decision=True,
    )
    return await _act(svc, request_id, operator, command)


@router.post("/aftersales/requests/{request_id}/return-shipment", response_model=RequestOut)
async def ship_return(
    request_id: uuid.UUID,
    body: ReturnShipmentIn,
    request: Request,
    buyer: Principal = require("buyer"),
) -> RequestOut:
    svc = service(request)
    command = ShipReturn(request_id, body.carrier, body.tracking_number, svc.runtime.now())
    return await _act(svc, request_id, buyer, command)


@router.post("/aftersales/requests/{request_id}/receive", response_model=RequestOut)
async def receive(
    request_id: uuid.UUID,
    body: ReceiveIn,
    request: Request,
    seller: Principal = require("seller"),
) -> RequestOut:
    """The seller's inspection: as expected settles the request; anything else goes to the
    operator."""
    svc = service(request)
    command = Receive(request_id, body.condition, svc.runtime.now())
    return await _act(svc, request_id, seller, command)


# --- return policies ------------------------------------------------------------------------


@router.put("/sellers/{seller_id}/return-policy", response_model=ReturnPolicyOut)
async def set_return_policy(
    seller_id: str,
    body: ReturnPolicyIn,
    request: Request,
    seller: Principal = require("seller"),
) -> ReturnPolicyOut:
    """The seller's return window (days after delivery, within the marketplace's bounds), and
    whether it takes change-of-mind requests and offers repair; new requests on its orders
    are decided by it. The same body again changes nothing."""
    if seller.seller_id != seller_id:
        raise NotFound("seller-not-found", "no such seller")
    svc = service(request)
    command = SetReturnPolicy(
        seller_id,
        body.return_window_days,
        body.accepts_change_of_mind,
        body.offers_repair,
        svc.runtime.now(),
    )
    outcome = await svc.set_return_policy(command)
    return ReturnPolicyOut.of(seller_id, outcome.state, svc.policy, outcome.version)


@router.get("/sellers/{seller_id}/return-policy", response_model=ReturnPolicyOut)
async def get_return_policy(
    seller_id: str, request: Request, caller: Principal = require("seller", "operator")
) -> ReturnPolicyOut:
    """The seller's return policy, or the marketplace's defaults (`is_default`) before it set
    one."""
    if not (caller.is_operator or caller.seller_id == seller_id):
        raise NotFound("seller-not-found", "no such seller")
    svc = service(request)
    state, version = await svc.return_policy(seller_id)
    return ReturnPolicyOut.of(seller_id, state, svc.policy, version)


# --- logistics complaints -------------------------------------------------------------------


@router.post("/logistics-complaints", response_model=ComplaintOut, status_code=201)
async def file_complaint(
    body: ComplaintIn, request: Request, seller: Principal = require("seller")
) -> ComplaintOut:
    """A complaint against the carrier of one of the seller's shipped packages."""
    svc = service(request)
    command = FileComplaint(
        uuid.uuid4(),
        seller.seller_id or "",
        body.package_id,
        body.carrier,
        body.type,
        body.description,
        svc.runtime.now(),
    )
    outcome = await svc.file_complaint(command)
    return ComplaintOut.of(outcome.state, outcome.version)


@router.get("/logistics-complaints", response_model=ComplaintPage)
async def list_complaints(
    request: Request,
    status: ComplaintStatus | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = require("seller", "operator"),
) -> ComplaintPage:
    owner = (
        read_model.Owner("seller_id", caller.seller_id)
        if caller.role == "seller"
        else read_model.Owner(None)
    )
    async with service(request).runtime.db.connect() as conn:
        items, next_cursor = await read_model.complaints(conn, owner, status, limit, cursor)
    return ComplaintPage.model_validate({"items": items, "next_cursor": next_cursor})


@router.get("/logistics-complaints/{complaint_id}", response_model=ComplaintOut)
async def get_complaint(
    complaint_id: uuid.UUID, request: Request, caller: Principal = require("seller", "operator")
) -> ComplaintOut:
    complaint, version = await service(request).complaint(complaint_id)
    if complaint.complaint_id is None or not (
        caller.is_operator or complaint.seller_id == caller.seller_id
    ):
        raise NotFound("complaint-not-found", "no such complaint")
    return ComplaintOut.of(complaint, version)


@router.post("/logistics-complaints/{complaint_id}/resolve", response_model=ComplaintOut)
async def resolve_complaint(
    complaint_id: uuid.UUID,
    body: ResolveIn,
    request: Request,
    operator: Principal = require("operator"),
) -> ComplaintOut:
    svc = service(request)
    command = ResolveComplaint(body.resolution, operator.sub, svc.runtime.now())
    outcome = await svc.on_complaint(complaint_id, command)
    return ComplaintOut.of(outcome.state, outcome.version)


# --- reviews --------------------------------------------------------------------------------


@router.post("/reviews", response_model=ReviewOut, status_code=201)
async def post_review(
    body: ReviewIn, request: Request, buyer: Principal = require("buyer")
) -> ReviewOut:
    """One review per order, by its buyer, after delivery: the overall (product) rating, and
    optionally the seller's service and the delivery rated apart, text and photos."""
    svc = service(request)
    command = PostReview(
        buyer.sub,
        body.overall,
        body.text,
        svc.runtime.now(),
        seller_service_rating=body.seller_service_rating,
        logistics_rating=body.logistics_rating,
        photos=tuple(body.photos),
    )
    outcome = await svc.on_ledger(body.order_id, command)
    return ReviewOut.of(outcome.state, outcome.version)


@router.get("/orders/{order_id}/review", response_model=ReviewOut)
async def get_review(
    order_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> ReviewOut:
    ledger, version = await service(request).ledger(order_id)
    if ledger.review is None or not _sees(caller, ledger):
        raise NotFound("review-not-found", "no review of this order")
    return ReviewOut.of(ledger, version)
