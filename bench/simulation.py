"""A simulated marketplace day (and the days after it), checked against ground truth.

All five services run in this process on one simulated clock, each behind its own real HTTP
server, over the real PostgreSQL and broker. The simulator is every actor at once (buyers,
sellers, pickup drivers, hub operators, carriers) and only ever calls the public HTTP APIs;
it moves the clock forward between the steps of the day so the SLA timers really fire. It
records what it did, then checks the order service and the analytics projections against
that record: every order's final status, and every seller's GMV, refunds, LDR, VTR, OTDR,
SFCR and NRR (numerators and denominators) must be exactly what it knows it did.

Fates are drawn from a seeded random mix, so a run is reproducible. Mid-run the platform
moves Springfield's pickup from SPX to GHN: its pickup sellers' orders created on the day before
the cutover or on its day (Springfield's calendar, America/Chicago as SPX's coverage names it)
get their dispatch deadline extended, labels printed after the cutover are GHN's, and the record
counts lateness against each order's own deadline (72 h from its creation, both sellers being
local ones, plus the extension). The mails sent and the webhook deliveries are checked against
the record too (`bench/notices.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import notices
from shared import embedded
from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.migrations import upgrade
from shared.serve import BackgroundServer, serve_in_background
from shared.settings import Settings
from shared.signatures import signed_headers

START = datetime(2026, 11, 2, 5, 35, tzinfo=UTC)  # 23:35 the day before, in Springfield
# Orders are placed over 50 minutes, across Springfield's midnight, so no buyer's 60-minute
# remorse window ends (and no order is placed) before the clock jumps past them all.
PLACING = timedelta(minutes=50)
SWITCH_ZONE = "America/Chicago"  # Springfield's, as SPX's default coverage names it
CUTOVER = datetime(2026, 11, 3, 18, tzinfo=UTC)  # noon in Springfield: SPX hands over to GHN
SWITCH_EXTENSION = timedelta(hours=72)
DISPATCH_SLA = timedelta(hours=72)
# Deliver-by: 5 working days in the buyers' calendar (Springfield's: Saturday and Sunday off,
# and Veterans Day, Wednesday 11 Nov 2026, a holiday) after the dispatch deadline, to the end
# of that day. The services are told the calendar; the record counts it on its own.
DELIVERY_WORKING_DAYS = 5
HOLIDAYS = {date(2026, 11, 11)}
CALENDARS = {"US": {"time_zone": SWITCH_ZONE, "holidays": sorted(d.isoformat() for d in HOLIDAYS)}}
SERVICES = ("order", "fulfillment", "pickup", "aftersales", "analytics")
FATES = {  # fate: weight
    "ABANDONED": 1,
    "REMORSE": 1,
    "SELLER_CANCELLED": 1,
    "ON_TIME": 6,
    "SHIPPED_LATE": 2,
    "DELIVERED_LATE": 1,
    "LOST": 1,
}
ADDRESS = {
    "recipient_name": "Sim Buyer",
    "phone": "+1 555 0100",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}
SELLERS = {  # seller: (warehouse city, expected handover) Springfield is in SPX's coverage
    "sim-shop-pickup": ("Springfield", "PICKUP"),
    "sim-shop-dropoff": ("Portland", "DROP_OFF"),
}
PRODUCTS = {"MUG": 1500, "TEE": 2500}


def profile(seller_id: str) -> dict[str, Any]:
    """A seller's profile: its registered full name is the labels' sender."""
    return {
        "legal_name": f"{seller_id} Trading LLC",
        "shop_name": seller_id,
        "address": {
            "line1": "9 Depot Rd",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "12345",
            "country": "US",
        },
        "contact": {"name": "Sam", "phone": "+1 555 0199"},
    }


SWITCHED_CITY = "Springfield"


@dataclass
class Truth:
    """What the simulator did to one order, and so what everyone must report."""

    order_id: str
    seller_id: str
    buyer_id: str
    fate: str
    created_at: datetime
    extended: bool  # its seller's region switched provider around its creation
    total: int = 0
    unit_prices: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)  # sku -> quantity ordered
    package_ids: list[str] = field(default_factory=list)
    handover: str | None = None
    tracking: dict[str, tuple[str, str]] = field(default_factory=dict)  # package -> carrier, no
    valid_tracking: bool = True
    rating: int | None = None
    returned_unit: int = 0  # refund of a one-unit return
    requests: int = 0  # after-sales requests (each approved)
    replacements: int = 0  # packages shipped for an exchange (platform tracking: valid)
    failed_attempt: bool = False
    placed_at: datetime | None = None
    shipped_late: bool = False
    delivered_late: bool = False
    ready_at: datetime | None = None  # when its packages were shipped (all at once)

    @property
    def dispatch_deadline(self) -> datetime:
        """From the order's creation (not its placement), plus the switch's extension."""
        assert self.placed_at is not None  # placed: it has a deadline
        extension = SWITCH_EXTENSION if self.extended else timedelta()
        return self.created_at + DISPATCH_SLA + extension

    @property
    def deliver_by(self) -> datetime:
        day = delivery_date(self.dispatch_deadline)
        return datetime.combine(day, time.max, ZoneInfo(SWITCH_ZONE)).astimezone(UTC)

    @property
    def estimated_delivery_date(self) -> date | None:
        return delivery_date(self.ready_at) if self.ready_at else None

    @property
    def paid(self) -> bool:
        return self.fate != "ABANDONED"

    @property
    def shipped(self) -> bool:
        return self.fate in ("ON_TIME", "SHIPPED_LATE", "DELIVERED_LATE", "LOST")

    @property
    def delivered(self) -> bool:
        return self.fate in ("ON_TIME", "SHIPPED_LATE", "DELIVERED_LATE")

    @property
    def final_status(self) -> str:
        if self.fate in ("ABANDONED", "REMORSE", "SELLER_CANCELLED"):
            return "CANCELLED"
        return "IN_TRANSIT" if self.fate == "LOST" else "COMPLETED"

    @property
    def refunded(self) -> int:
        return self.total if self.fate in ("REMORSE", "SELLER_CANCELLED") else self.returned_unit


def delivery_date(start: datetime) -> date:
    """The buyers' day DELIVERY_WORKING_DAYS working days after `start`'s day."""
    day, counted = start.astimezone(ZoneInfo(SWITCH_ZONE)).date(), 0
    while counted < DELIVERY_WORKING_DAYS:
        day += timedelta(days=1)
        counted += day.weekday() < 5 and day not in HOLIDAYS
    return day


def expected_metrics(truths: list[Truth]) -> dict[str, dict[str, Any]]:
    """Each seller's metrics, counted from the record, not from any projection."""
    out: dict[str, dict[str, Any]] = {}
    for seller in SELLERS:
        mine = [t for t in truths if t.seller_id == seller]
        paid = [t for t in mine if t.paid]
        shipped = [t for t in mine if t.shipped]
        delivered = [t for t in mine if t.delivered]
        packages = [t for t in shipped for _ in t.package_ids]
        out[seller] = {
            "orders": len(mine),
            "gmv": sum(t.total for t in paid),
            "refunds": sum(t.refunded for t in mine),
            "late_dispatch_rate": (sum(t.shipped_late for t in shipped), len(shipped)),
            "valid_tracking_rate": (
                sum(t.valid_tracking for t in packages) + sum(t.replacements for t in mine),
                len(packages) + sum(t.replacements for t in mine),
            ),
            "on_time_delivery_rate": (
                sum(t.delivered and not t.delivered_late for t in shipped),
                len(shipped),
            ),
            "seller_fault_cancellation_rate": (
                sum(t.fate == "SELLER_CANCELLED" for t in paid),
                len(paid),
            ),
            "negative_review_rate": (
                sum(t.rating is not None and t.rating <= 2 for t in delivered),
                len(delivered),
            ),
        }
    return out


class World:
    """The running services, their clients, and the clock they share.

    The services may run in this process (`start_world`) or as processes of their own (the
    chaos run in bench/chaos.py: a `FileClock` they all read, and clients that spread
    requests over each service's replicas); the day and the checks are the same. `patience`
    bounds each wait for something to become true (longer when faults are injected)."""

    def __init__(
        self, clock: SimulatedClock, settings: dict[str, Settings], patience: float = 60
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.secret = settings["order"].effective_jwt_secret
        self.servers: list[BackgroundServer] = []
        self.http: dict[str, httpx.AsyncClient] = {}
        self.patience = patience
        self.waiting_for: str | None = None  # what `until` polls for now (for a stalled run)
        self.orders_placed = 0
        self.listeners: notices.Listeners | None = None  # who hears of it (mail, webhooks)

    def token(
        self,
        role: str,
        sub: str,
        seller_id: str | None = None,
        carrier: str | None = None,
        provider: str | None = None,
    ) -> dict[str, str]:
        token = mint_token(
            self.secret, sub=sub, role=role, seller_id=seller_id, carrier=carrier, provider=provider
        )
        return {"Authorization": f"Bearer {token}"}

    def seller(self, seller_id: str) -> dict[str, str]:
        return self.token("seller", f"{seller_id}-staff", seller_id=seller_id)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        expect: tuple[int, ...] = (200, 201, 202),
    ) -> Any:
        r = await self.http[service].request(method, path, headers=headers, json=body)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {service}{path} answered {r.status_code}: {r.text}")
        return r.json() if r.content else None

    async def deliver(self, t: Truth) -> None:
        for carrier, number in t.tracking.values():
            await self.carrier_event(carrier, number, "DELIVERED")
        t.delivered_late = self.clock.now() > t.deliver_by

    async def carrier_event(self, carrier: str, tracking_number: str, status: str) -> None:
        self.clock.advance(timedelta(seconds=1))  # each report a moment after the one before
        await post_carrier_event(
            self.http["fulfillment"],
            "/v1/carrier-events",
            self.secret,
            self.settings["fulfillment"].carrier_secret(carrier) or "",
            carrier,
            tracking_number,
            status,
            self.clock.now(),
        )

    async def until(
        self, what: str, check: Callable[[], Awaitable[Any]], within: float | None = None
    ) -> Any:
        """Poll until `check` returns something truthy (eventual consistency), bounded (by
        `patience` unless told)."""
        within = within or self.patience
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        self.waiting_for = what
        while loop.time() < deadline:
            result = await check()
            if result:
                self.waiting_for = None
                return result
            await asyncio.sleep(0.1)
        raise TimeoutError(f"not within {within}s: {what}")


async def post_carrier_event(
    client: httpx.AsyncClient,
    url: str,
    jwt_secret: str,
    carrier_secret: str,
    carrier: str,
    tracking_number: str,
    status: str,
    at: datetime,
) -> None:
    """A carrier's signed tracking report to fulfillment's webhook (`url`), sent (and signed)
    at `at` on the services' clock; it must be applied."""
    raw = json.dumps(
        {"tracking_number": tracking_number, "status": status, "occurred_at": at.isoformat()}
    ).encode()
    token = mint_token(jwt_secret, sub=f"{carrier.lower()}-bot", role="carrier", carrier=carrier)
    headers = {
        "Authorization": f"Bearer {token}",
        "content-type": "application/json",
        **signed_headers(carrier_secret, raw, at),
    }
    r = await client.post(url, content=raw, headers=headers)
    if r.status_code != 200 or not r.json()["applied"]:
        raise RuntimeError(f"carrier {status} for {tracking_number}: {r.text[:300]}")


async def start_world(server_url: str, bootstrap: str) -> World:
    clock = SimulatedClock(start=START)
    run = uuid.uuid4().hex[:8]
    settings: dict[str, Settings] = {}
    for service in SERVICES:
        url = embedded.database_url(server_url, f"sim_{run}_{service}")
        await embedded.create_database(server_url, f"sim_{run}_{service}")
        await asyncio.to_thread(upgrade, service, url)
        settings[service] = Settings(
            DATABASE_URL=url,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            kafka_topic_prefix=f"sim{run}.",
            scheduler_interval_s=0.05,
            relay_poll_interval_s=0.2,
            log_level="WARNING",
            delivery_calendars=CALENDARS,
        )
    world = World(clock, settings)
    world.listeners = listeners = await notices.start_listeners()
    from services.aftersales.app import create_aftersales_app
    from services.analytics.app import create_analytics_app
    from services.fulfillment.app import create_fulfillment_app
    from services.order.app import create_order_app
    from services.pickup.app import create_pickup_app

    factories: dict[str, Callable[[Settings, SimulatedClock], FastAPI]] = {
        "order": create_order_app,
        "fulfillment": create_fulfillment_app,
        "pickup": create_pickup_app,
        "aftersales": create_aftersales_app,
        "analytics": lambda s, c: create_analytics_app(
            s, c, webhook_settings=notices.HOOKS, mail_settings=listeners.mail_settings
        ),
    }
    for service, factory in factories.items():
        server = await serve_in_background(factory(settings[service], clock))
        world.servers.append(server)
        world.http[service] = httpx.AsyncClient(base_url=server.base_url, timeout=30)
    return world


async def stop_world(world: World) -> None:
    for client in world.http.values():
        await client.aclose()
    for server in world.servers:
        await server.stop()
    if world.listeners is not None:
        await world.listeners.stop()


# --- the day -----------------------------------------------------------------------------


async def set_up_sellers(w: World) -> dict[str, str]:
    """Products, a stocked warehouse each; the covered one gets its pickup approved."""
    if w.listeners is not None:
        await notices.register_webhooks(w, w.listeners)
    warehouses = {}
    for seller_id, (city, handover) in SELLERS.items():
        seller = w.seller(seller_id)
        for sku, price in PRODUCTS.items():
            await w.call(
                "order",
                "POST",
                "/v1/products",
                seller,
                {
                    "sku": sku,
                    "title": sku.title(),
                    "price": {"amount": price, "currency": "USD"},
                    "weight_g": 300,
                },
            )
        warehouse = await w.call(
            "fulfillment",
            "POST",
            "/v1/warehouses",
            seller,
            {
                "name": f"{seller_id} {city}",
                "address": {**ADDRESS, "city": city, "line1": "9 Depot Rd"},
                "contact": {"name": "Sam", "phone": "+1 555 0199"},
            },
        )
        wid = warehouse["warehouse_id"]
        warehouses[seller_id] = wid
        await w.call(  # the label's sender: no profile, no label
            "fulfillment",
            "PUT",
            f"/v1/sellers/{seller_id}/profile",
            seller,
            {**profile(seller_id), **notices.mail_profile(seller_id)},
        )
        for sku in PRODUCTS:
            await w.call(
                "fulfillment",
                "PUT",
                f"/v1/warehouses/{wid}/stock/{sku}",
                seller,
                {"on_hand": 10_000},
            )

        async def subscription(wid: str = wid, seller: dict[str, str] = seller) -> Any:
            r = await w.http["pickup"].get(
                f"/v1/warehouses/{wid}/pickup-subscription", headers=seller
            )
            return r.json() if r.status_code == 200 else None

        sub = await w.until(f"pickup subscription of {seller_id}", subscription)
        if handover == "PICKUP":
            driver = w.token("driver", "drv-review", provider=sub["provider_code"])
            await w.call(
                "pickup",
                "POST",
                f"/v1/pickup-subscriptions/{sub['subscription_id']}/review",
                driver,
                {"approve": True},
            )
        expected = "ACTIVE" if handover == "PICKUP" else "NOT_COVERED"

        async def settled(wid: str = wid, expected: str = expected) -> bool:
            body = await subscription(wid)
            return bool(body and body["status"] == expected)

        await w.until(f"subscription {expected} for {seller_id}", settled)
    return warehouses


async def run_day(
    w: World, orders: int, seed: int, progress: Progress | None = None
) -> list[Truth]:
    rng = random.Random(seed)
    fates = rng.choices(list(FATES), weights=list(FATES.values()), k=orders)
    task = progress.add_task("journeys", total=orders * 6) if progress else None

    def step() -> None:
        if progress is not None and task is not None:
            progress.advance(task, orders)

    await set_up_sellers(w)
    truths: list[Truth] = []
    for i, fate in enumerate(fates):
        if i == orders // 2:  # mid-run: orders before it are extended at once, later ones as made
            await schedule_switch(w)
        w.clock.advance(PLACING / orders)
        seller_id = rng.choice(list(SELLERS))
        buyer_id = f"sim-buyer-{i % 7}"
        lines: list[dict[str, Any]] = [
            {"sku": sku, "quantity": rng.randint(1, 2)} for sku in rng.sample(list(PRODUCTS), 2)
        ]
        created_at = w.clock.now()
        order = await w.call(
            "order",
            "POST",
            "/v1/orders",
            w.token("buyer", buyer_id),
            {
                "seller_id": seller_id,
                "items": lines,
                "shipping_address": ADDRESS,
                "payment_method": "CARD",
                "buyer_email": notices.buyer_mail(buyer_id)[0],
                "buyer_language": notices.buyer_mail(buyer_id)[1],
            },
        )
        w.orders_placed += 1
        truth = Truth(
            order["order_id"],
            seller_id,
            buyer_id,
            fate,
            created_at,
            extended=switch_extends(seller_id, created_at),
            total=order["total"]["amount"],
        )
        truth.unit_prices = {i["sku"]: i["unit_price"]["amount"] for i in order["items"]}
        truth.units = {line["sku"]: line["quantity"] for line in lines}
        truths.append(truth)
        buyer = w.token("buyer", buyer_id)
        if fate != "ABANDONED":
            await w.call(
                "order",
                "POST",
                f"/v1/orders/{truth.order_id}/payments",
                buyer,
                {"amount": order["total"], "transaction_id": f"sim-{truth.order_id}"},
            )
        if fate == "REMORSE":
            await w.call(
                "order",
                "POST",
                f"/v1/orders/{truth.order_id}/cancel",
                buyer,
                {"reason_code": "CHANGED_MIND"},
            )
    if orders < 2:
        await schedule_switch(w)
    step()

    w.clock.advance(timedelta(hours=1, seconds=1))  # unpaid timeouts and remorse windows end
    live = [t for t in truths if t.fate not in ("ABANDONED", "REMORSE")]
    for t in live:
        t.placed_at = w.clock.now()  # the order service places them as the clock gets here
    for t in live:

        async def planned(t: Truth = t) -> Any:
            r = await w.http["fulfillment"].get(
                f"/v1/orders/{t.order_id}/packages", headers=w.seller(t.seller_id)
            )
            return r.json() if r.status_code == 200 and r.json()["status"] == "PLANNED" else None

        plan = await w.until(f"packages of {t.order_id}", planned)
        t.package_ids = [p["package_id"] for p in plan["packages"]]
    operator = w.token("operator", "sim-ops")
    for t in live:
        if not t.extended:
            continue

        async def extended(t: Truth = t) -> bool:
            r = await w.http["order"].get(f"/v1/orders/{t.order_id}", headers=operator)
            deadline = r.json()["dispatch_deadline"] if r.status_code == 200 else None
            return deadline is not None and datetime.fromisoformat(deadline) == t.dispatch_deadline

        # The switch's extension is pickup's event: time moves on (to shipping, delivery,
        # cancellation) only once it reached the order, as it would in real time. A consumer
        # that waits for its group's rebalance can hold it back for seconds, which are days
        # here, and a closed order takes no extension.
        await w.until(f"the switch's extension of {t.order_id}", extended)
    for t in live:
        if t.fate == "SELLER_CANCELLED":
            await w.call(
                "order",
                "POST",
                f"/v1/orders/{t.order_id}/cancel",
                w.seller(t.seller_id),
                {"reason_code": "OUT_OF_STOCK"},
            )
    step()

    numbers = iter(range(10**9, 10**10))  # SELLER_OWN tracking numbers, each used once

    async def ship(t: Truth) -> None:
        handover = SELLERS[t.seller_id][1]
        own = rng.random() < 0.2
        for package_id in t.package_ids:
            body: dict[str, Any] = {"handover": handover}
            if own:
                t.valid_tracking = rng.random() < 0.5
                serial = next(numbers)
                number = str(serial) if t.valid_tracking else f"BAD-{serial}"
                body = {"handover": "SELLER_OWN", "carrier": "DHL", "tracking_number": number}
            shipped = await w.call(
                "fulfillment",
                "POST",
                f"/v1/packages/{package_id}/ship",
                w.seller(t.seller_id),
                body,
            )
            t.handover = body["handover"]
            t.tracking[package_id] = (shipped["carrier"], shipped["tracking_number"])
        t.shipped_late = w.clock.now() > t.dispatch_deadline
        t.ready_at = w.clock.now()

    shipping = [t for t in truths if t.shipped]
    for t in shipping:
        if t.fate != "SHIPPED_LATE":
            await ship(t)  # before the cutover: SPX labels
    w.clock.advance(timedelta(hours=73))  # past the 72 h (from creation) deadline, the cutover
    for t in shipping:
        if t.fate == "SHIPPED_LATE" and not t.extended:
            await ship(t)
    w.clock.advance(SWITCH_EXTENSION)  # past the extended deadlines
    for t in shipping:
        if t.fate == "SHIPPED_LATE" and t.extended:
            await ship(t)
    step()

    await first_mile(w, shipping)
    step()

    for t in shipping:
        for carrier, number in t.tracking.values():
            await w.carrier_event(carrier, number, "IN_TRANSIT")
            if t.fate == "LOST":
                await w.carrier_event(carrier, number, "LOST")
            elif t.fate != "DELIVERED_LATE" and rng.random() < 0.2:
                t.failed_attempt = True
                await w.carrier_event(carrier, number, "DELIVERY_FAILED")
        if t.fate in ("ON_TIME", "SHIPPED_LATE"):
            await w.deliver(t)
    delivered = [t for t in shipping if t.fate in ("ON_TIME", "SHIPPED_LATE")]
    await after_delivery(w, delivered, rng, ensure_each=True)
    # past every deliver-by date (the dispatch deadline + 5 working days, to the day's end)
    due = max((t.deliver_by for t in shipping), default=w.clock.now())
    w.clock.advance(max(due - w.clock.now(), timedelta()) + timedelta(minutes=1))
    late = [t for t in shipping if t.fate == "DELIVERED_LATE"]
    for t in late:
        await w.deliver(t)
    await after_delivery(w, late, rng)
    step()

    w.clock.advance(timedelta(days=8))  # every delivered order completes by itself
    step()
    return truths


async def schedule_switch(w: World) -> None:
    """The platform moves Springfield from SPX to GHN at the cutover (an operator's call)."""
    await w.call(
        "pickup",
        "POST",
        "/v1/provider-switches",
        w.token("operator", "sim-ops"),
        {
            "country": "US",
            "city": SWITCHED_CITY,
            "to_provider": "GHN",
            "cutover_at": CUTOVER.isoformat(),  # the region's zone: its coverage's
            "sla_extension_hours": int(SWITCH_EXTENSION.total_seconds() // 3600),
        },
    )


def switch_extends(seller_id: str, created_at: datetime) -> bool:
    """The rule, as the simulator knows it: orders of the switched region's pickup sellers
    (a drop-off seller there keeps its deadline) created on the day before or the day of the
    cutover (the region's local calendar) get the extension."""
    zone = ZoneInfo(SWITCH_ZONE)
    day = created_at.astimezone(zone).date()
    cutover_day = CUTOVER.astimezone(zone).date()
    city, handover = SELLERS[seller_id]
    pickup_seller = city == SWITCHED_CITY and handover == "PICKUP"
    return pickup_seller and cutover_day - timedelta(days=1) <= day <= cutover_day


async def first_mile(w: World, shipping: list[Truth]) -> None:
    """Drivers take the day's runs and scan the parcels; the hub receives drop-offs."""
    operator = w.token("operator", "sim-hub")
    pickups = [t for t in shipping if t.handover == "PICKUP"]
    if pickups:
        # Labels printed before the cutover are SPX's runs, those after it GHN's.
        drivers = {p: w.token("driver", f"sim-driver-{p}", provider=p) for p in ("SPX", "GHN")}

        async def awaited() -> Any:
            runs = {
                p: await w.call("pickup", "GET", "/v1/pickup-tasks", d) for p, d in drivers.items()
            }
            waiting = {
                p["package_id"]
                for r in runs.values()
                for run in r["items"]
                for p in run["packages"]
            }
            wanted = {p for t in pickups for p in t.package_ids}
            return runs if wanted <= waiting else None

        await w.until("pickup runs with every parcel", awaited)
        wanted = {p for t in pickups for p in t.package_ids}
        staffed: set[str] = set()

        async def collected() -> bool:
            """Each driver scans the parcels its runs list now. A run listed a moment ago may
            have been handed over at a cutover since (its parcels moved to the new provider's
            runs; the old driver's scan is a 404): the next look finds them there."""
            for provider, driver in drivers.items():
                listed = await w.call("pickup", "GET", "/v1/pickup-tasks", driver)
                for run in listed["items"]:
                    mine = [p["package_id"] for p in run["packages"] if p["package_id"] in wanted]
                    if not mine:
                        continue
                    if run["task_id"] not in staffed:
                        await w.call(
                            "pickup",
                            "POST",
                            f"/v1/pickup-tasks/{run['task_id']}/driver",
                            driver,
                            {
                                "driver_id": f"sim-driver-{provider}",
                                "name": "Sim",
                                "phone": "+1 555 0111",
                            },
                        )
                        staffed.add(run["task_id"])
                    for package_id in mine:
                        r = await w.http["pickup"].post(
                            f"/v1/packages/{package_id}/pickup-scan", headers=driver
                        )
                        if r.status_code == 200:
                            wanted.discard(package_id)
                        elif r.status_code != 404:
                            raise RuntimeError(f"pickup-scan of {package_id}: {r.status_code}")
            return not wanted

        await w.until("every parcel collected by the driver whose run lists it", collected)
    for t in shipping:
        if t.handover == "DROP_OFF":
            for package_id in t.package_ids:

                async def dropped(package_id: str = package_id) -> bool:
                    r = await w.http["pickup"].post(
                        f"/v1/packages/{package_id}/drop-off", headers=operator
                    )
                    return r.status_code == 200

                await w.until(f"drop-off of {package_id}", dropped)


async def ship_replacement(w: World, t: Truth, request_id: str) -> None:
    """The seller ships the replacement package fulfillment planned for the exchange."""
    seller = w.seller(t.seller_id)

    async def planned() -> Any:
        r = await w.http["fulfillment"].get(f"/v1/orders/{t.order_id}/packages", headers=seller)
        found = [p for p in r.json()["packages"] if p["replacement_for"] == request_id]
        return found[0] if found else None

    package = await w.until(f"replacement package of {t.order_id}", planned)
    handover = SELLERS[t.seller_id][1]
    await w.call(
        "fulfillment",
        "POST",
        f"/v1/packages/{package['package_id']}/ship",
        seller,
        {"handover": handover},
    )
    t.replacements += 1


async def after_delivery(
    w: World, delivered: list[Truth], rng: random.Random, ensure_each: bool = False
) -> None:
    """Some buyers return one unit (approved, shipped back, received, refunded) or exchange it
    (the seller ships the replacement); some review."""
    for i, t in enumerate(delivered):
        buyer = w.token("buyer", t.buyer_id)
        seller = w.seller(t.seller_id)
        roll = rng.random()
        if ensure_each and i < 2:  # even a small run has one exchange and one return
            roll = (0.05, 0.2)[i]
        if roll < 0.3:
            exchange = roll < 0.1
            sku = sorted(t.unit_prices)[0]
            kind = "EXCHANGE" if exchange else "RETURN_AND_REFUND"

            reason = "WRONG_ITEM" if exchange else "DAMAGED"

            async def opened(
                t: Truth = t, sku: str = sku, kind: str = kind, reason: str = reason
            ) -> Any:
                r = await w.http["aftersales"].post(
                    "/v1/aftersales/requests",
                    headers=w.token("buyer", t.buyer_id),
                    json={
                        "order_id": t.order_id,
                        "type": kind,
                        "items": [{"sku": sku, "quantity": 1}],
                        "reason_code": reason,
                    },
                )
                return r.json() if r.status_code == 201 else None

            request = await w.until(f"{kind} of {t.order_id}", opened)
            t.requests += 1
            rid = request["request_id"]
            base = f"/v1/aftersales/requests/{rid}"
            await w.call("aftersales", "POST", f"{base}/approve", seller)
            await w.call(
                "aftersales",
                "POST",
                f"{base}/return-shipment",
                buyer,
                {"carrier": "POST", "tracking_number": "RR123456789US"},
            )
            done = await w.call(
                "aftersales", "POST", f"{base}/receive", seller, {"condition": "AS_EXPECTED"}
            )
            if exchange:
                await ship_replacement(w, t, rid)
            else:
                t.returned_unit = done["refunded"]["amount"]
        if rng.random() < 0.7:
            rating = rng.randint(1, 5)

            async def reviewed(t: Truth = t, rating: int = rating) -> bool:
                r = await w.http["aftersales"].post(
                    "/v1/reviews",
                    headers=w.token("buyer", t.buyer_id),
                    json={"order_id": t.order_id, "rating": rating, "text": "sim"},
                )
                return r.status_code == 201  # 409 until aftersales heard of the delivery

            await w.until(f"review of {t.order_id}", reviewed)
            t.rating = rating


# --- checking ----------------------------------------------------------------------------


async def check(w: World, truths: list[Truth], within: float = 120) -> list[str]:
    """Every difference between what the services report and what the simulator did."""
    operator = w.token("operator", "sim-auditor")

    async def settled() -> bool:
        for t in truths:
            r = await w.http["analytics"].get(f"/v1/order-views/{t.order_id}", headers=operator)
            if r.status_code != 200 or r.json()["status"] != t.final_status:
                return False
            if t.rating is not None and r.json()["review"] is None:
                return False
            if len(r.json()["refunded"]) != (t.refunded > 0):
                return False
        return w.listeners is None or not notices.differences(w.listeners, truths)

    with contextlib.suppress(TimeoutError):  # the differences below say what did not arrive
        await w.until("the projections to catch up", settled, within=within)
    differences = []
    for t in truths:
        order = await w.call("order", "GET", f"/v1/orders/{t.order_id}", operator)
        view = await w.call("analytics", "GET", f"/v1/order-views/{t.order_id}", operator)
        for source, status in (("order service", order["status"]), ("order view", view["status"])):
            if status != t.final_status:
                differences.append(
                    f"{t.order_id} ({t.fate}): {source} says {status}, expected {t.final_status}"
                )
        if t.placed_at is None:
            continue
        for source, deadline in (
            ("order service", order["dispatch_deadline"]),
            ("order view", view["dispatch_deadline"]),
        ):
            if deadline is None or datetime.fromisoformat(deadline) != t.dispatch_deadline:
                differences.append(
                    f"{t.order_id} (extended: {t.extended}): {source}'s dispatch deadline is "
                    f"{deadline}, expected {t.dispatch_deadline.isoformat()}"
                )
        for source, due in (
            ("order service", order["deliver_by"]),
            ("order view", view["deliver_by"]),
        ):
            if due is None or datetime.fromisoformat(due) != t.deliver_by:
                differences.append(
                    f"{t.order_id} (extended: {t.extended}): {source}'s deliver-by is {due}, "
                    f"expected {t.deliver_by.isoformat()}"
                )
        estimate = t.estimated_delivery_date and t.estimated_delivery_date.isoformat()
        if view.get("estimated_delivery_date") != estimate:
            differences.append(
                f"{t.order_id}: the order view estimates delivery on "
                f"{view.get('estimated_delivery_date')}, expected {estimate}"
            )
    window = {
        "from": (START - timedelta(days=1)).isoformat(),
        "to": (w.clock.now() + timedelta(days=1)).isoformat(),
        "granularity": "total",
    }
    for seller_id, expected in expected_metrics(truths).items():
        body = await w.call(
            "analytics",
            "GET",
            f"/v1/sellers/{seller_id}/metrics?{httpx.QueryParams(window)}",
            operator,
        )
        total = body["total"]
        reported: dict[str, Any] = {
            "orders": total["orders"],
            "gmv": sum(g["amount"] for g in total["gmv"]),
            "refunds": sum(g["amount"] for g in total["refunds"]),
        }
        for name in expected:
            if name not in reported:
                reported[name] = (total[name]["numerator"], total[name]["denominator"])
        for name, value in expected.items():
            if reported[name] != value:
                differences.append(
                    f"{seller_id} {name}: reported {reported[name]}, expected {value}"
                )
    if w.listeners is not None:
        differences += notices.differences(w.listeners, truths)
    return differences


def summary(truths: list[Truth], differences: list[str]) -> Table:
    table = Table(title="simulated marketplace")
    table.add_column("fate")
    table.add_column("orders", justify="right")
    table.add_column("final status")
    counts = Counter(t.fate for t in truths)
    for fate in FATES:
        status = {t.final_status for t in truths if t.fate == fate}
        table.add_row(fate, str(counts[fate]), ", ".join(sorted(status)) or "-")
    extended = sum(t.extended for t in truths)
    carriers = Counter(carrier for t in truths for carrier, _ in t.tracking.values())
    labels = ", ".join(f"{c} {n}" for c, n in sorted(carriers.items()))
    verdict = "ground truth: all match" if not differences else f"{len(differences)} differ"
    table.caption = (
        f"labels: {labels}; {extended} orders' dispatch deadline extended by the provider "
        f"switch; {verdict}"
    )
    return table


def seller_table(truths: list[Truth]) -> Table:
    """What each seller's metrics must be (numerator / denominator), from the record."""
    expected = expected_metrics(truths)
    table = Table(title="sellers (from the simulator's record)")
    table.add_column("metric")
    for seller in expected:
        table.add_column(seller, justify="right")
    for name in next(iter(expected.values())):
        cells = []
        for values in expected.values():
            value = values[name]
            cells.append(f"{value[0]} / {value[1]}" if isinstance(value, tuple) else str(value))
        table.add_row(name, *cells)
    return table


async def simulate(
    server_url: str, bootstrap: str, orders: int, seed: int, console: Console | None = None
) -> tuple[list[Truth], list[str]]:
    console = console or Console()
    world = await start_world(server_url, bootstrap)
    try:
        with Progress(console=console, transient=True) as progress:
            truths = await run_day(world, orders, seed, progress)
        differences = await check(world, truths)
        if world.listeners is not None:
            console.print(notices.summary(world.listeners))
    finally:
        await stop_world(world)
    console.print(summary(truths, differences))
    console.print(seller_table(truths))
    for difference in differences:
        console.print(f"[red]{difference}")
    console.print("ground truth: all match" if not differences else "ground truth: MISMATCH")
    return truths, differences


def run_standalone(orders: int, seed: int) -> bool:
    """On DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, else on a throwaway embedded
    PostgreSQL and Tansu; True when the ground truth matches."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    workdir = Path(tempfile.mkdtemp(prefix="sf-sim-"))
    tansu = None
    try:
        server_url = os.environ.get("DATABASE_URL") or embedded.start_postgres(workdir / "pg")
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            port = embedded.free_port()
            tansu = embedded.start_tansu(port, workdir / "tansu.log")
            bootstrap = f"127.0.0.1:{port}"
        _, differences = asyncio.run(simulate(server_url, bootstrap, orders, seed))
        return not differences
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(10)
        if not os.environ.get("DATABASE_URL"):
            embedded.stop_postgres(workdir / "pg")
        shutil.rmtree(workdir, ignore_errors=True)
