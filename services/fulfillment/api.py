"""Thin routes of the fulfillment service: authorise, load, decide, append."""

from __future__ import annotations

import json
import uuid
from typing import Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import text

from services.fulfillment import documents, views
from services.fulfillment.domain import (
    AdjustStock,
    ChangeWarehouseAddress,
    Fulfillment,
    RecordTracking,
    RegisterWarehouse,
    SplitRules,
    Warehouse,
)
from services.fulfillment.schemas import (
    SKU_PATTERN,
    CarrierEventIn,
    CarrierEventOut,
    PackageOut,
    PackagesOut,
    ShipRequest,
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
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["fulfillment"])


def service(request: Request) -> FulfillmentService:
    svc: FulfillmentService = request.app.state.fulfillment_service
    return svc


async def own_warehouse(
    svc: FulfillmentService, warehouse_id: uuid.UUID, caller: Principal
) -> tuple[Warehouse, int]:
    warehouse, version = await svc.warehouse(warehouse_id)
    if not warehouse.exists or not (caller.is_operator or warehouse.seller_id == caller.seller_id):
        raise NotFound("warehouse-not-found", "no such warehouse")
    return warehouse, version


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
    warehouse_id = uuid.uuid4()
    command = RegisterWarehouse(
        warehouse_id, seller.seller_id, body.name, body.address, body.contact
    )
    outcome = await service(request).on_warehouse(warehouse_id, command)
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
    await own_warehouse(svc, warehouse_id, seller)
    outcome = await svc.on_warehouse(warehouse_id, ChangeWarehouseAddress(body))
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
        AdjustStock(warehouse.seller_id, warehouse_id, sku, body.on_hand)
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
        version = await views.save_split_rules(conn, seller_id, rules)
    return SplitRulesOut(**body.model_dump(), seller_id=seller_id, version=version)


# --- packages -------------------------------------------------------------------------------


@router.get("/orders/{order_id}/packages", response_model=PackagesOut)
async def order_packages(
    order_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> PackagesOut:
    fulfillment, version = await service(request).fulfillment(order_id)
    if not fulfillment.exists or not can_see(caller, fulfillment):
        raise NotFound("order-not-found", "no packages for this order (yet)")
    return PackagesOut.of(fulfillment, version)


async def visible_package(
    svc: FulfillmentService, package_id: uuid.UUID, caller: Principal
) -> views.PackageRef:
    async with svc.runtime.db.connect() as conn:
        ref = await views.package_ref(conn, package_id)
    visible = ref is not None and (
        caller.is_operator
        or (caller.role == "seller" and ref.seller_id == caller.seller_id)
        or (caller.role == "buyer" and ref.buyer_id == caller.sub)
    )
    if ref is None or not visible:
        raise NotFound("package-not-found", "no such package")
    return ref


@router.post("/packages/{package_id}/ship", response_model=PackageOut)
async def ship_package(
    package_id: uuid.UUID,
    body: ShipRequest,
    request: Request,
    seller: Principal = require("seller"),
) -> PackageOut:
    svc = service(request)
    ref = await visible_package(svc, package_id, seller)
    outcome = await svc.ship(ref, **body.model_dump())
    return PackageOut.of(ref.order_id, outcome.state.packages[package_id])


@router.get(
    "/packages/{package_id}/documents",
    responses={200: {"content": {"application/pdf": {}, "application/json": {}}}},
)
async def package_documents(
    package_id: uuid.UUID,
    request: Request,
    type: Literal["SHIPPING_LABEL", "PACKING_SLIP"] = Query("SHIPPING_LABEL"),
    caller: Principal = require("buyer", "seller", "operator"),
) -> Response:
    """A PDF by default; the label's fields as JSON with `Accept: application/json`."""
    svc = service(request)
    ref = await visible_package(svc, package_id, caller)
    fulfillment, _ = await svc.fulfillment(ref.order_id)
    package = fulfillment.packages[package_id]
    wants_json = "application/json" in request.headers.get("accept", "")
    if type == "PACKING_SLIP":
        if wants_json:
            return JSONResponse(
                {
                    "order_id": str(ref.order_id),
                    "package_id": str(package_id),
                    "items": [i.model_dump() for i in package.items],
                }
            )
        pdf = documents.packing_slip_pdf(ref.order_id, package_id, package.items, fulfillment.lines)
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


@router.post("/carrier-events", response_model=CarrierEventOut)
async def carrier_event(
    request: Request,
    carrier: Principal = require("carrier"),
    x_shopflow_signature: str | None = Header(None, description="sha256=<hex HMAC of the body>"),
) -> CarrierEventOut:
    """A carrier's status report, signed with its shared secret. A repeat is a no-op."""
    svc = service(request)
    raw = await request.body()
    secret = svc.runtime.settings.carrier_secret(carrier.carrier or "")
    if (
        not carrier.carrier
        or secret is None
        or not signatures.verify(secret, raw, x_shopflow_signature)
    ):
        raise Problem(
            401, "Unauthorized", "missing or bad X-Shopflow-Signature", code="bad-signature"
        )
    try:
        body = CarrierEventIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    async with svc.runtime.db.connect() as conn:
        ref = await views.package_by_tracking(conn, body.tracking_number)
    fulfillment = (await svc.fulfillment(ref.order_id))[0] if ref else None
    package = fulfillment.packages.get(ref.package_id) if fulfillment and ref else None
    if ref is None or package is None or package.carrier != carrier.carrier:
        raise NotFound(
            "tracking-not-found", f"{carrier.carrier} has no parcel {body.tracking_number}"
        )
    command = RecordTracking(
        ref.package_id, body.status, body.occurred_at, body.location, body.proof
    )
    outcome = await svc.track(ref, command)
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
