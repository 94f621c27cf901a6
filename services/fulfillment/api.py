"""Thin routes of the fulfillment service: authorise, load, decide, append."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import text

from services.fulfillment import documents, read_model
from services.fulfillment.domain.fulfillment import Fulfillment, SplitManually
from services.fulfillment.domain.invoice import invoice
from services.fulfillment.domain.package import RecordSelfDelivery, RecordTracking
from services.fulfillment.domain.packing import ManualPackage, SplitRules
from services.fulfillment.domain.seller_profile import KeepProfile
from services.fulfillment.domain.stock import AdjustStock
from services.fulfillment.domain.warehouse import (
    ChangeWarehouseAddress,
    RegisterWarehouse,
    Warehouse,
)
from services.fulfillment.schemas import (
    SKU_PATTERN,
    CarrierEventIn,
    CarrierEventOut,
    CombineIn,
    PackageOut,
    PackagesOut,
    SelfDeliveryIn,
    SellerProfileIn,
    SellerProfileOut,
    ShipRequest,
    SplitIn,
    SplitRulesIn,
    SplitRulesOut,
    StockIn,
    StockOut,
    WarehouseIn,
    WarehouseOut,
)
from services.fulfillment.service import FulfillmentService
from shared import signatures
from shared.aggregate import NotFound
from shared.auth import Principal, require
from shared.events.common import Address
from shared.events.fulfillment import SkuQuantity
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["fulfillment"])


def service(request: Request) -> FulfillmentService:
    svc: FulfillmentService = request.app.state.fulfillment_service
    return svc


def managed_by(caller: Principal) -> Callable[[Warehouse], None]:
    """A guard: the warehouse exists and the caller manages it."""

    def guard(warehouse: Warehouse) -> None:
        if not warehouse.exists or not (
            caller.is_operator or warehouse.seller_id == caller.seller_id
        ):
            raise NotFound("warehouse-not-found", "no such warehouse")

    return guard


async def own_warehouse(
    svc: FulfillmentService, warehouse_id: uuid.UUID, caller: Principal
) -> tuple[Warehouse, int]:
    warehouse, version = await svc.warehouse(warehouse_id)
    managed_by(caller)(warehouse)
    return warehouse, version


def sold_by(seller: Principal) -> Callable[[Fulfillment], None]:
    """A guard: the order reached fulfillment and the caller sold it."""

    def guard(fulfillment: Fulfillment) -> None:
        if not fulfillment.exists or fulfillment.seller_id != seller.seller_id:
            raise NotFound("order-not-found", "no packages for this order")

    return guard


def can_see(caller: Principal, fulfillment: Fulfillment) -> bool:
    if caller.is_operator:
        return True
    if caller.role == "seller":
        return fulfillment.seller_id == caller.seller_id
    return caller.role == "buyer" and fulfillment.buyer_id == caller.sub


# --- warehouses and stock -------------------------------------------------------------------


@router.post("/warehouses", status_code=201, response_model=WarehouseOut)
async def register_warehouse(
    body: WarehouseIn, request: Request, seller: Principal = require("seller")
) -> WarehouseOut:
    assert seller.seller_id
    svc = service(request)
    warehouse_id = uuid.uuid4()
    command = RegisterWarehouse(
        warehouse_id, seller.seller_id, body.name, body.address, body.contact, svc.runtime.now()
    )
    outcome = await svc.on_warehouse(warehouse_id, command)
    return WarehouseOut.of(outcome.state, outcome.version)


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseOut)
async def get_warehouse(
    warehouse_id: uuid.UUID, request: Request, caller: Principal = require("seller", "operator")
) -> WarehouseOut:
    return WarehouseOut.of(*await own_warehouse(service(request), warehouse_id, caller))


@router.put("/warehouses/{warehouse_id}/address", response_model=WarehouseOut)
async def change_warehouse_address(
    warehouse_id: uuid.UUID, body: Address, request: Request, seller: Principal = require("seller")
) -> WarehouseOut:
    svc = service(request)
    command = ChangeWarehouseAddress(body, svc.runtime.now())
    outcome = await svc.on_warehouse(warehouse_id, command, guard=managed_by(seller))
    return WarehouseOut.of(outcome.state, outcome.version)


@router.put("/warehouses/{warehouse_id}/stock/{sku}", response_model=StockOut)
async def set_stock(
    warehouse_id: uuid.UUID,
    body: StockIn,
    request: Request,
    sku: str = Path(pattern=SKU_PATTERN),
    seller: Principal = require("seller"),
) -> StockOut:
    svc = service(request)
    warehouse, _ = await own_warehouse(svc, warehouse_id, seller)
    stock = await svc.adjust_stock(
        AdjustStock(warehouse.seller_id, warehouse_id, sku, body.on_hand, svc.runtime.now())
    )
    slot = (warehouse_id, sku)
    reserved = stock.reserved(slot)
    on_hand = stock.on_hand.get(slot, 0)
    return StockOut(
        warehouse_id=warehouse_id,
        sku=sku,
        on_hand=on_hand,
        reserved=reserved,
        available=on_hand - reserved,
    )


@router.put("/sellers/{seller_id}/split-rules", response_model=SplitRulesOut)
async def set_split_rules(
    seller_id: str, body: SplitRulesIn, request: Request, seller: Principal = require("seller")
) -> SplitRulesOut:
    if seller.seller_id != seller_id:
        raise NotFound("seller-not-found", "no such seller")
    rules = SplitRules(body.max_weight_g, body.max_items, frozenset(body.ship_alone_skus))
    async with service(request).runtime.db.transaction() as conn:
        version = await read_model.save_split_rules(conn, seller_id, rules)
    return SplitRulesOut(**body.model_dump(), seller_id=seller_id, version=version)


@router.put("/sellers/{seller_id}/profile", response_model=SellerProfileOut)
async def keep_seller_profile(
    seller_id: str, body: SellerProfileIn, request: Request, seller: Principal = require("seller")
) -> SellerProfileOut:
    """The seller's registered full name (the labels' sender and the invoices' issuer), shop
    name, registered address (region required), contact, and optionally the email and
    language its notifications use; the same body again changes nothing."""
    if seller.seller_id != seller_id:
        raise NotFound("seller-not-found", "no such seller")
    svc = service(request)
    command = KeepProfile(
        seller_id,
        body.legal_name,
        body.shop_name,
        body.address,
        body.contact,
        svc.runtime.now(),
        email=body.email,
        language=body.language,
    )
    outcome = await svc.on_seller_profile(seller_id, command)
    return SellerProfileOut.of(outcome.state, outcome.version)


@router.get("/sellers/{seller_id}/profile", response_model=SellerProfileOut)
async def get_seller_profile(
    seller_id: str, request: Request, caller: Principal = require("seller", "operator")
) -> SellerProfileOut:
    if not (caller.is_operator or caller.seller_id == seller_id):
        raise NotFound("seller-not-found", "no such seller")
    profile, version = await service(request).seller_profile(seller_id)
    if not profile.exists:
        raise NotFound("seller-profile-not-found", f"seller {seller_id} has no profile yet")
    return SellerProfileOut.of(profile, version)


# --- packages -------------------------------------------------------------------------------


@router.get("/orders/{order_id}/packages", response_model=PackagesOut)
async def order_packages(
    order_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> PackagesOut:
    svc = service(request)
    fulfillment, version = await svc.fulfillment(order_id)
    if not fulfillment.exists or not can_see(caller, fulfillment):
        raise NotFound("order-not-found", "no packages for this order (yet)")
    return PackagesOut.of(fulfillment, version, svc.logistics)


@router.post("/orders/{order_id}/split", response_model=PackagesOut)
async def split_order(
    order_id: uuid.UUID, body: SplitIn, request: Request, seller: Principal = require("seller")
) -> PackagesOut:
    """Re-split the packages not yet ready to ship; they must add up exactly."""
    svc = service(request)
    command = SplitManually(
        [
            ManualPackage(
                [SkuQuantity(sku=i.sku, quantity=i.quantity) for i in p.items], p.warehouse_id
            )
            for p in body.packages
        ],
        svc.runtime.now(),
    )
    outcome = await svc.on_fulfillment(order_id, command, guard=sold_by(seller))
    return PackagesOut.of(outcome.state, outcome.version, svc.logistics)


async def visible_package(
    svc: FulfillmentService, package_id: uuid.UUID, caller: Principal
) -> list[read_model.PackageRef]:
    """The package in the caller's orders (a combined parcel serves several orders)."""
    async with svc.runtime.db.connect() as conn:
        refs = await read_model.package_refs(conn, package_id)
    visible = [
        ref
        for ref in refs
        if caller.is_operator
        or (caller.role == "seller" and ref.seller_id == caller.seller_id)
        or (caller.role == "buyer" and ref.buyer_id == caller.sub)
    ]
    if not visible:
        raise NotFound("package-not-found", "no such package")
    return visible


@router.post("/packages/{package_id}/ship", response_model=PackageOut)
async def ship_package(
    package_id: uuid.UUID,
    body: ShipRequest,
    request: Request,
    seller: Principal = require("seller"),
) -> PackageOut:
    svc = service(request)
    refs = await visible_package(svc, package_id, seller)
    outcomes = await svc.ship(refs, **body.model_dump())
    shipped = outcomes[0].state
    return PackageOut.of(shipped, shipped.packages[package_id], svc.logistics)


@router.post("/packages/{package_id}/delivery", response_model=PackageOut)
async def record_self_delivery(
    package_id: uuid.UUID,
    body: SelfDeliveryIn,
    request: Request,
    seller: Principal = require("seller"),
) -> PackageOut:
    """The seller delivered its own SELF_DELIVERY package: the proof (signature or photo
    reference) is kept for disputes and the order becomes delivered as with a carrier's
    report. Other packages are their carrier's to report (409); a repeat is a no-op."""
    svc = service(request)
    refs = await visible_package(svc, package_id, seller)
    now = svc.runtime.now()
    command = RecordSelfDelivery(package_id, body.proof.strip(), body.delivered_at or now, now)
    outcomes = await svc.track(refs, command)
    delivered = outcomes[0].state
    return PackageOut.of(delivered, delivered.packages[package_id], svc.logistics)


@router.post("/packages/combine", response_model=PackageOut, status_code=201)
async def combine_packages(
    body: CombineIn, request: Request, seller: Principal = require("seller")
) -> PackageOut:
    """One parcel for packages of orders of the same buyer, address and warehouse, none
    ready to ship."""
    assert seller.seller_id
    svc = service(request)
    combined_id = await svc.combine(seller.seller_id, body.package_ids)
    refs = await visible_package(svc, combined_id, seller)
    fulfillment, _ = await svc.fulfillment(refs[0].order_id)
    return PackageOut.of(fulfillment, fulfillment.packages[combined_id], svc.logistics)


@router.post("/packages/{package_id}/uncombine", response_model=list[PackageOut])
async def uncombine_package(
    package_id: uuid.UUID, request: Request, seller: Principal = require("seller")
) -> list[PackageOut]:
    """Undo a combination: each order gets its own packages back."""
    svc = service(request)
    refs = await visible_package(svc, package_id, seller)
    await svc.uncombine(refs)
    restored = []
    for ref in refs:
        fulfillment, _ = await svc.fulfillment(ref.order_id)
        restored += [
            PackageOut.of(fulfillment, p, svc.logistics)
            for p in fulfillment.packages.values()
            if p.status == "PLANNED" and p.combined_into is None and not p.combined_orders
        ]
    return restored


@router.get(
    "/packages/{package_id}/documents",
    responses={200: {"content": {"application/pdf": {}, "application/json": {}}}},
)
async def package_documents(
    package_id: uuid.UUID,
    request: Request,
    type: Literal["SHIPPING_LABEL", "PACKING_SLIP", "INVOICE"] = Query("SHIPPING_LABEL"),
    caller: Principal = require("buyer", "seller", "operator"),
) -> Response:
    """A PDF by default; the document's fields as JSON with `Accept: application/json`. The
    INVOICE is the order's (one per order, the same from each of its packages)."""
    svc = service(request)
    refs = await visible_package(svc, package_id, caller)
    ref = refs[0]
    fulfillment, _ = await svc.fulfillment(ref.order_id)
    package = fulfillment.packages[package_id]
    wants_json = "application/json" in request.headers.get("accept", "")
    if type == "INVOICE":
        if len({r.order_id for r in refs}) > 1:
            raise Problem(
                409,
                "Conflict with the current state",
                "a combined parcel serves several orders, each with its own invoice: ask it "
                "from one of the order's own packages",
                code="combined-parcel",
            )
        profile, _ = await svc.seller_profile(fulfillment.seller_id)
        issued = invoice(fulfillment, profile)
        if wants_json:
            return JSONResponse(issued.model_dump(mode="json"))
        pdf = documents.invoice_pdf(issued)
    elif type == "PACKING_SLIP":
        contents = await svc.parcel(refs)
        order_ids = list(dict.fromkeys(r.order_id for r in refs))
        if wants_json:
            return JSONResponse(
                {
                    "order_id": str(ref.order_id),
                    "order_ids": [str(o) for o in order_ids],
                    "package_id": str(package_id),
                    "items": [i.model_dump() for i in contents.items],
                    "weight_g": contents.weight_g,
                }
            )
        pdf = documents.packing_slip_pdf(order_ids, package_id, contents.items)
    else:
        if package.label is None:
            raise Problem(
                409,
                "Conflict with the current state",
                "the label exists once the package is ready to ship",
                code="no-label-yet",
            )
        if wants_json:
            return JSONResponse(package.label.model_dump(mode="json"))
        pdf = documents.shipping_label_pdf(package.label)
    filename = f"{type.lower()}-{package_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


CARRIER_EVENTS = "/v1/carrier-events"


@router.post(CARRIER_EVENTS.removeprefix("/v1"), response_model=CarrierEventOut)
async def carrier_event(
    request: Request,
    carrier: Principal = require("carrier"),
    x_shopflow_timestamp: str | None = Header(
        None, description="unix seconds when sent; within the tolerance of our clock"
    ),
    x_shopflow_signature: str | None = Header(
        None, description='sha256=<hex HMAC of "<X-Shopflow-Timestamp>.<raw body>">'
    ),
) -> CarrierEventOut:
    """A carrier's status report, signed with its shared secret over the timestamp and the
    body (shared/signatures.py); a stale timestamp is refused like a bad signature. A repeat
    is a no-op."""
    svc = service(request)
    raw = await request.body()
    settings = svc.runtime.settings
    secret = settings.carrier_secret(carrier.carrier or "")
    if (
        not carrier.carrier
        or secret is None
        or not signatures.verify(
            secret,
            raw,
            x_shopflow_timestamp,
            x_shopflow_signature,
            now=svc.runtime.now(),
            tolerance_s=settings.webhook_tolerance_s,
        )
    ):
        raise Problem(
            401,
            "Unauthorized",
            "missing, bad or stale X-Shopflow-Timestamp/X-Shopflow-Signature",
            code="bad-signature",
        )
    try:
        body = CarrierEventIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    async with svc.runtime.db.connect() as conn:  # the parcel this carrier's number names
        package_id = await read_model.package_by_tracking(
            conn, carrier.carrier, body.tracking_number
        )
        refs = await read_model.package_refs(conn, package_id) if package_id else []
    fulfillment = (await svc.fulfillment(refs[0].order_id))[0] if refs else None
    package = fulfillment.packages.get(refs[0].package_id) if fulfillment and refs else None
    if package is None or package.carrier != carrier.carrier:
        raise NotFound(
            "tracking-not-found", f"{carrier.carrier} has no parcel {body.tracking_number}"
        )
    ref = refs[0]
    command = RecordTracking(
        package_id=ref.package_id,
        status=body.status,
        occurred_at=body.occurred_at,
        now=svc.runtime.now(),
        location=body.location,
        proof=body.proof,
        proof_required=carrier.carrier in svc.logistics.carriers_requiring_proof,
    )
    outcome = (await svc.track(refs, command))[0]
    events = [e.event_type for e in outcome.events]
    return CarrierEventOut(
        package_id=ref.package_id,
        tracking_number=body.tracking_number,
        status=outcome.state.packages[ref.package_id].status,
        applied=bool(events) and events != ["TrackingAnomalyRecorded"],
        anomaly=events == ["TrackingAnomalyRecorded"],
    )


@router.get("/tracking-anomalies")
async def tracking_anomalies(
    request: Request, _: Principal = require("operator"), limit: int = Query(100, ge=1, le=500)
) -> dict[str, list[dict[str, object]]]:
    """Carrier reports that could not follow the package's status, newest first."""
    async with service(request).runtime.db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT payload::text AS payload FROM events "
                "WHERE event_type = 'TrackingAnomalyRecorded' ORDER BY position DESC LIMIT :n"
            ),
            {"n": limit},
        )
        return {"items": [json.loads(r.payload) for r in rows]}
