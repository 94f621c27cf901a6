"""Thin routes of the pickup service: authorise, build the command, run it."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Path, Query, Request

from services.pickup import read_model
from services.pickup.domain.coverage import region_zone
from services.pickup.domain.parcel import (
    ArriveAtHub,
    Parcel,
    ReceiveDropOff,
    RecordLabelDefect,
    handled_by,
)
from services.pickup.domain.provider import ConfigureProvider, Provider
from services.pickup.domain.subscription import (
    ChangePickupWindow,
    DeclineSubscription,
    ReportPushFailed,
    ReviewSubscription,
    Subscription,
    SubscriptionCommand,
)
from services.pickup.domain.switch import ScheduleSwitch
from services.pickup.domain.task import AssignDriver, Task
from services.pickup.schemas import (
    BatchReviewIn,
    DriverIn,
    HubIn,
    LabelDefectIn,
    ParcelOut,
    ProviderIn,
    ProviderOut,
    ReviewIn,
    SubscriptionOut,
    SwitchIn,
    SwitchOut,
)
from services.pickup.service import PickupService
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.auth import Principal, require
from shared.events.pickup import PickupWindow, RegionHub, RegionZone
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["pickup"])


def service(request: Request) -> PickupService:
    svc: PickupService = request.app.state.pickup_service
    return svc


@router.put("/providers/{provider_code}", response_model=ProviderOut)
async def configure_provider(
    body: ProviderIn,
    request: Request,
    provider_code: str = Path(pattern=r"^[A-Z0-9_]{2,20}$"),
    _: Principal = require("operator"),
) -> ProviderOut:
    svc = service(request)
    command = ConfigureProvider(
        provider_code,
        body.name,
        body.tracking_prefix,
        [(a.country, a.city) for a in body.coverage],
        svc.runtime.now(),
        [RegionHub(country=a.country, city=a.city, hub=a.hub) for a in body.coverage if a.hub],
        [
            RegionZone(country=a.country, city=a.city, timezone=a.timezone)
            for a in body.coverage
            if a.timezone
        ],
        body.hotline,
        body.service_hours,
    )
    outcome = await svc.configure_provider(command)
    return ProviderOut.of(outcome.state)


@router.get("/providers", response_model=list[ProviderOut])
async def list_providers(
    request: Request, _: Principal = require("buyer", "seller", "operator", "carrier", "driver")
) -> list[ProviderOut]:
    return [ProviderOut.of(p) for p in await service(request).providers()]


async def _warehouse_of(svc: PickupService, subscription_id: uuid.UUID) -> uuid.UUID:
    warehouse_id = await svc.warehouse_of(subscription_id)
    if warehouse_id is None:
        raise NotFound("subscription-not-found", "no such pickup subscription")
    return warehouse_id


def _visible_to(caller: Principal) -> Callable[[Subscription], None]:
    """Operators see every subscription, a seller its own, a driver its provider's."""

    def guard(state: Subscription) -> None:
        visible = (
            caller.is_operator
            or (caller.role == "seller" and state.seller_id == caller.seller_id)
            or (
                caller.role == "driver"
                and bool(caller.provider)
                and state.provider_code == caller.provider
            )
        )
        if not visible:
            raise NotFound("subscription-not-found", "no such pickup subscription")

    return guard


@router.get("/warehouses/{warehouse_id}/pickup-subscription", response_model=SubscriptionOut)
async def get_subscription(
    warehouse_id: uuid.UUID, request: Request, caller: Principal = require("seller", "operator")
) -> SubscriptionOut:
    state, version = await service(request).subscription(warehouse_id)
    if state.subscription_id is None or not (
        caller.is_operator or state.seller_id == caller.seller_id
    ):
        raise NotFound("subscription-not-found", "no pickup subscription for this warehouse (yet)")
    return await _out(service(request), state, version)


async def _out(svc: PickupService, state: Subscription, version: int) -> SubscriptionOut:
    """The subscription with its provider's name, hotline and service hours."""
    provider = next(
        (p for p in await svc.providers() if p.provider_code == state.provider_code), None
    )
    return SubscriptionOut.of(state, version, provider)


@router.post("/pickup-subscriptions/{subscription_id}/review", response_model=SubscriptionOut)
async def review_subscription(
    subscription_id: uuid.UUID,
    body: ReviewIn,
    request: Request,
    reviewer: Principal = require("driver", "operator"),
) -> SubscriptionOut:
    """The provider (its drivers) or an operator approves or rejects the request (or a
    subscription a switch moved to it); approving, it agrees the daily `pickup_window`."""
    svc = service(request)
    command = ReviewSubscription(
        subscription_id,
        body.approve,
        reviewer.sub,
        body.note,
        svc.runtime.now(),
        body.pickup_window,
    )
    return await _run_on_subscription(svc, subscription_id, command, reviewer)


async def _run_on_subscription(
    svc: PickupService,
    subscription_id: uuid.UUID,
    command: SubscriptionCommand,
    caller: Principal,
) -> SubscriptionOut:
    warehouse_id = await _warehouse_of(svc, subscription_id)
    outcome = await svc.on_subscription(warehouse_id, command, guard=_visible_to(caller))
    return await _out(svc, outcome.state, outcome.version)


@router.put("/pickup-subscriptions/{subscription_id}/pickup-window", response_model=SubscriptionOut)
async def change_pickup_window(
    subscription_id: uuid.UUID,
    body: PickupWindow,
    request: Request,
    caller: Principal = require("driver", "operator"),
) -> SubscriptionOut:
    """The provider changes an ACTIVE warehouse's daily pickup window (409 otherwise)."""
    svc = service(request)
    command = ChangePickupWindow(subscription_id, body, caller.sub, svc.runtime.now())
    return await _run_on_subscription(svc, subscription_id, command, caller)


@router.get("/pickup-subscriptions/pending-reviews")
async def pending_reviews(
    request: Request,
    provider_code: str | None = Query(None, max_length=20),
    caller: Principal = require("driver", "operator"),
) -> dict[str, list[dict[str, Any]]]:
    """What a provider has to review: new requests and the subscriptions a switch moved to
    it (each due within 24 h); a driver sees its own provider's."""
    if caller.role == "driver":
        if not caller.provider:
            raise Problem(403, "Forbidden", "a driver's token names its provider")
        provider_code = caller.provider
    async with service(request).runtime.db.connect() as conn:
        return {"items": await read_model.pending_reviews(conn, provider_code)}


@router.post("/pickup-subscriptions/batch-review")
async def batch_review(
    body: BatchReviewIn, request: Request, caller: Principal = require("driver", "operator")
) -> dict[str, list[dict[str, Any]]]:
    """A provider reviews many subscriptions at once (after a switch: the ones pushed to
    it). Each item is `APPROVE` (with its `pickup_window`), `REJECT`, or `PUSH_FAILED` (the
    address could not be taken in: drop-off until the seller saves the address again). A
    batch naming a subscription that is not the caller's provider's is a 404 and changes
    nothing; otherwise each is decided on its own: the answer lists each one's subscription,
    or its `error` (e.g. `not-pending`: reviewed already)."""
    svc = service(request)
    guard = _visible_to(caller)
    for item in body.items:
        state, _ = await svc.subscription(await _warehouse_of(svc, item.subscription_id))
        guard(state)
    results: list[dict[str, Any]] = []
    for item in body.items:
        now = svc.runtime.now()
        command: SubscriptionCommand = (
            ReportPushFailed(item.subscription_id, caller.sub, item.note, now)
            if item.decision == "PUSH_FAILED"
            else ReviewSubscription(
                item.subscription_id,
                item.decision == "APPROVE",
                caller.sub,
                item.note,
                now,
                item.pickup_window,
            )
        )
        try:
            out = await _run_on_subscription(svc, item.subscription_id, command, caller)
        except (NotFound, DomainError, InvalidCommand) as e:
            results.append({"subscription_id": item.subscription_id, "error": e.code})
        else:
            results.append(out.model_dump(mode="json"))
    return {"items": results}


@router.post("/pickup-subscriptions/{subscription_id}/decline", response_model=SubscriptionOut)
async def decline_subscription(
    subscription_id: uuid.UUID, request: Request, seller: Principal = require("seller")
) -> SubscriptionOut:
    """The seller does not want pickup: back to drop-off."""
    svc = service(request)
    warehouse_id = await _warehouse_of(svc, subscription_id)
    command = DeclineSubscription(subscription_id, svc.runtime.now())
    outcome = await svc.on_subscription(warehouse_id, command, guard=_visible_to(seller))
    return await _out(svc, outcome.state, outcome.version)


@router.get("/pickup-subscriptions/overdue-reviews")
async def overdue_reviews(
    request: Request, _: Principal = require("operator")
) -> dict[str, list[dict[str, Any]]]:
    """Requests the provider has not reviewed in time, to chase."""
    async with service(request).runtime.db.connect() as conn:
        return {"items": await read_model.overdue_reviews(conn)}


@router.post("/provider-switches", response_model=SwitchOut, status_code=201)
async def schedule_switch(
    body: SwitchIn, request: Request, _: Principal = require("operator")
) -> SwitchOut:
    """Move a region to another provider at the cutover; its pickup sellers' orders created
    the day before and the day of it (the region's calendar) get their dispatch deadline
    extended. The region's time zone is its coverage's (`coverage[].timezone` of the
    providers); a region without one is refused (422), never read as UTC."""
    svc = service(request)
    providers = await svc.providers()
    provider = next((p for p in providers if p.provider_code == body.to_provider), None)
    switch_id = uuid.uuid4()
    command = ScheduleSwitch(
        switch_id,
        body.country,
        body.city,
        provider or Provider(),
        body.cutover_at,
        region_zone(providers, body.country, body.city, body.to_provider),
        body.sla_extension_hours,
        svc.runtime.now(),
    )
    switch = await svc.schedule_switch(command)
    return SwitchOut.model_validate({**vars(switch), "switch_id": switch_id})


# --- collection runs ------------------------------------------------------------------------


@router.get("/pickup-tasks")
async def pickup_tasks(
    request: Request,
    provider_code: str | None = Query(None, max_length=20),
    date: datetime.date | None = Query(None, description="the run's day"),
    caller: Principal = require("driver", "operator"),
) -> dict[str, list[dict[str, Any]]]:
    """The day's collection runs; a driver sees its own provider's. A parcel is listed on
    the run of the provider that collects it: after a switch's cutover its waiting parcels
    are on the new provider's runs, and the old runs say `handed_over`."""
    if caller.role == "driver":
        if not caller.provider:
            raise Problem(403, "Forbidden", "a driver's token names its provider")
        if provider_code and provider_code != caller.provider:
            raise Problem(403, "Forbidden", "drivers see their own provider's runs")
        provider_code = caller.provider
    async with service(request).runtime.db.connect() as conn:
        return {"items": await read_model.tasks(conn, provider_code, date)}


@router.post("/pickup-tasks/{task_id}/driver")
async def assign_driver(
    task_id: uuid.UUID,
    body: DriverIn,
    request: Request,
    caller: Principal = require("driver", "operator"),
) -> dict[str, Any]:
    svc = service(request)

    def guard(task: Task) -> None:  # a driver assigns its own provider's runs only
        if task.task_id is None or (
            caller.role == "driver"
            and (not caller.provider or task.provider_code != caller.provider)
        ):
            raise NotFound("task-not-found", "no such pickup task")

    command = AssignDriver(body.driver_id, body.name, body.phone, svc.runtime.now())
    outcome = await svc.on_task(task_id, command, guard=guard)
    return {
        "task_id": str(task_id),
        "driver_id": outcome.state.driver_id,
        "version": outcome.version,
    }


async def handled_by_caller(
    svc: PickupService, package_id: uuid.UUID, caller: Principal
) -> tuple[Callable[[Parcel], None], str | None]:
    """A guard: the parcel exists and is the caller's to handle (an operator's, or a driver's
    of the provider that holds it); another's is a plain 404. With it, the provider that
    serves the parcel's region now."""
    region_provider = await svc.region_provider(package_id)

    def guard(parcel: Parcel) -> None:
        if parcel.package_id is None or not (
            caller.is_operator
            or (caller.role == "driver" and handled_by(parcel, caller.provider, region_provider))
        ):
            raise NotFound("package-not-found", "no ready-to-ship package with that id")

    return guard, region_provider


@router.post("/packages/{package_id}/pickup-scan", response_model=ParcelOut)
async def pickup_scan(
    package_id: uuid.UUID, request: Request, driver: Principal = require("driver")
) -> ParcelOut:
    """The driver collected the package at the warehouse. A repeated scan changes nothing."""
    svc = service(request)
    guard, region_provider = await handled_by_caller(svc, package_id, driver)
    outcome = await svc.collect(
        package_id,
        driver.sub,
        driver.provider or "",
        guard=guard,
        region_provider=region_provider,
    )
    return ParcelOut.of(outcome.state)


@router.post("/packages/{package_id}/drop-off", response_model=ParcelOut)
async def drop_off(
    package_id: uuid.UUID, request: Request, operator: Principal = require("operator")
) -> ParcelOut:
    """A seller's drop-off received at the hub."""
    svc = service(request)
    outcome = await svc.on_parcel(package_id, ReceiveDropOff(operator.sub, svc.runtime.now()))
    return ParcelOut.of(outcome.state)


@router.post("/packages/{package_id}/hub-arrival", response_model=ParcelOut)
async def hub_arrival(
    package_id: uuid.UUID,
    body: HubIn,
    request: Request,
    caller: Principal = require("driver", "operator"),
) -> ParcelOut:
    """The parcel reached the sorting hub: recorded by a driver of the provider that holds
    it, or an operator."""
    svc = service(request)
    guard, _ = await handled_by_caller(svc, package_id, caller)
    command = ArriveAtHub(body.hub_id, svc.runtime.now())
    outcome = await svc.on_parcel(package_id, command, guard=guard)
    return ParcelOut.of(outcome.state)


@router.post("/packages/{package_id}/label-defect", response_model=ParcelOut)
async def label_defect(
    package_id: uuid.UUID,
    body: LabelDefectIn,
    request: Request,
    caller: Principal = require("driver", "operator"),
) -> ParcelOut:
    """The hub found the parcel's label wrong or unreadable (`reason_code`): recorded once,
    after hub arrival, by a driver of the provider that holds the parcel or an operator. The
    parcel is relabelled at the seller's cost: `LabelDefectRecorded` and `RelabelFeeCharged`
    (the fee: SHOPFLOW_PICKUP_RELABEL_FEE_AMOUNT / _CURRENCY). The same reason again changes
    nothing; another reason, or a parcel not at the hub, is a 409."""
    svc = service(request)
    guard, _ = await handled_by_caller(svc, package_id, caller)
    command = RecordLabelDefect(
        body.reason_code, body.note, caller.sub, svc.settings.relabel_fee, svc.runtime.now()
    )
    outcome = await svc.on_parcel(package_id, command, guard=guard)
    return ParcelOut.of(outcome.state)
