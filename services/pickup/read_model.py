"""The pickup service's read model: its query tables (providers, subscriptions, switches,
warehouses and recent orders of the regions, collection runs and their parcels), kept by
`project` in the same transaction as the events, and the queries on them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup.domain.coverage import city_key
from services.pickup.domain.provider import PROVIDER, Provider
from shared.events import Envelope
from shared.events.pickup import (
    PARCEL_STATUS_BY_EVENT,
    ArrivedAtHub,
    DriverAssigned,
    DroppedOff,
    ParcelAwaited,
    ParcelMovedToRun,
    PickedUp,
    PickupOverdue,
    PickupSubscriptionProviderSwitched,
    PickupSubscriptionReviewOverdue,
    PickupTaskCreated,
    PickupTaskDriverOverdue,
    PickupTaskHandedOver,
    PickupWindowChanged,
    ProviderConfigured,
    ProviderSwitchApplied,
    ProviderSwitchScheduled,
    SubscriptionEvent,
)


async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        event = envelope.decode()
        match event:
            case ProviderConfigured():
                await conn.execute(
                    text(
                        """
                        INSERT INTO providers (provider_code, name, tracking_prefix, coverage,
                                               hubs, zones, hotline, service_hours)
                        VALUES (:code, :name, :prefix, CAST(:coverage AS jsonb),
                                CAST(:hubs AS jsonb), CAST(:zones AS jsonb), :hotline,
                                CAST(:hours AS jsonb))
                        ON CONFLICT (provider_code) DO UPDATE SET name = EXCLUDED.name,
                            tracking_prefix = EXCLUDED.tracking_prefix,
                            coverage = EXCLUDED.coverage, hubs = EXCLUDED.hubs,
                            zones = EXCLUDED.zones, hotline = EXCLUDED.hotline,
                            service_hours = EXCLUDED.service_hours
                        """
                    ),
                    {
                        "code": event.provider_code,
                        "name": event.name,
                        "prefix": event.tracking_prefix,
                        "coverage": json.dumps(event.coverage),
                        "hubs": json.dumps([h.model_dump(mode="json") for h in event.hubs]),
                        "zones": json.dumps([z.model_dump(mode="json") for z in event.zones]),
                        "hotline": event.hotline,
                        "hours": (
                            event.service_hours.model_dump_json() if event.service_hours else None
                        ),
                    },
                )
            case ProviderSwitchScheduled():
                await conn.execute(
                    text(
                        "INSERT INTO switches (switch_id, country, city_key, to_provider, "
                        "tracking_prefix, cutover_at) VALUES (:id, :country, :city, :to, "
                        ":prefix, :at)"
                    ),
                    {
                        "id": event.switch_id,
                        "country": event.country,
                        "city": city_key(event.city),
                        "to": event.to_provider,
                        "prefix": event.tracking_prefix,
                        "at": event.cutover_at,
                    },
                )
            case ProviderSwitchApplied():
                await conn.execute(
                    text("UPDATE switches SET applied_at = :at WHERE switch_id = :id"),
                    {"id": event.switch_id, "at": event.applied_at},
                )
            case PickupTaskCreated():
                await conn.execute(
                    text(
                        "INSERT INTO tasks (task_id, provider_code, warehouse_id, seller_id, "
                        "run_date) VALUES (:id, :provider, :wh, :seller, :day)"
                    ),
                    {
                        "id": event.task_id,
                        "provider": event.provider_code,
                        "wh": event.warehouse_id,
                        "seller": event.seller_id,
                        "day": event.run_date,
                    },
                )
            case DriverAssigned():
                await conn.execute(
                    text(
                        "UPDATE tasks SET driver_id = :driver, driver_name = :name, "
                        "driver_phone = :phone WHERE task_id = :id"
                    ),
                    {
                        "id": event.task_id,
                        "driver": event.driver_id,
                        "name": event.name,
                        "phone": event.phone,
                    },
                )
            case PickupTaskDriverOverdue():
                await conn.execute(
                    text("UPDATE tasks SET driver_overdue = true WHERE task_id = :id"),
                    {"id": event.task_id},
                )
            case PickupTaskHandedOver():
                await conn.execute(
                    text("UPDATE tasks SET handed_over = true WHERE task_id = :id"),
                    {"id": event.task_id},
                )
            case ParcelMovedToRun():
                await conn.execute(
                    text("UPDATE parcels SET task_id = :task WHERE package_id = :id"),
                    {"id": event.package_id, "task": event.task_id},
                )
            case ParcelAwaited():
                await conn.execute(
                    text(
                        "INSERT INTO parcels (package_id, order_id, task_id, tracking_number, "
                        "status) VALUES (:id, :order, :task, :tn, :status) ON CONFLICT DO NOTHING"
                    ),
                    {
                        "id": event.package_id,
                        "order": event.order_id,
                        "task": event.task_id,
                        "tn": event.tracking_number,
                        "status": "AWAITING_PICKUP" if event.task_id else "AWAITING_DROP_OFF",
                    },
                )
            case PickedUp() | DroppedOff() | ArrivedAtHub():
                await conn.execute(
                    text("UPDATE parcels SET status = :status WHERE package_id = :id"),
                    {"id": event.package_id, "status": PARCEL_STATUS_BY_EVENT[type(event)]},
                )
            case PickupOverdue():
                await conn.execute(
                    text("UPDATE parcels SET overdue = true WHERE package_id = :id"),
                    {"id": event.package_id},
                )
            case PickupSubscriptionReviewOverdue():
                await conn.execute(
                    text(
                        "UPDATE subscriptions SET review_overdue = true WHERE subscription_id = :id"
                    ),
                    {"id": event.subscription_id},
                )
            case SubscriptionEvent():
                await _project_subscription(conn, event)
                await conn.execute(  # the warehouse is a pickup seller's while ACTIVE
                    text("UPDATE warehouses SET pickup_active = :active WHERE warehouse_id = :wh"),
                    {"wh": event.warehouse_id, "active": event.status == "ACTIVE"},
                )


async def providers(conn: AsyncConnection) -> list[Provider]:
    rows = await conn.execute(
        text(
            "SELECT provider_code, name, tracking_prefix, coverage::text AS coverage, "
            "hubs::text AS hubs, zones::text AS zones, hotline, "
            "service_hours::text AS service_hours FROM providers ORDER BY provider_code"
        )
    )
    return [
        PROVIDER.fold(
            [
                ProviderConfigured(
                    provider_code=r.provider_code,
                    name=r.name,
                    tracking_prefix=r.tracking_prefix,
                    coverage=json.loads(r.coverage),
                    hubs=json.loads(r.hubs),
                    zones=json.loads(r.zones),
                    hotline=r.hotline,
                    service_hours=json.loads(r.service_hours) if r.service_hours else None,
                )
            ]
        )
        for r in rows
    ]


async def warehouse_of(conn: AsyncConnection, subscription_id: uuid.UUID) -> uuid.UUID | None:
    row = (
        await conn.execute(
            text("SELECT warehouse_id FROM subscriptions WHERE subscription_id = :id"),
            {"id": subscription_id},
        )
    ).first()
    return row.warehouse_id if row else None


async def overdue_reviews(conn: AsyncConnection) -> list[dict[str, object]]:
    rows = await conn.execute(
        text(
            "SELECT subscription_id, warehouse_id, seller_id, provider_code, review_due "
            "FROM subscriptions WHERE review_pending AND review_overdue "
            "ORDER BY review_due LIMIT 500"
        )
    )
    return [dict(r._mapping) for r in rows]


async def warehouse_region(
    conn: AsyncConnection, warehouse_id: uuid.UUID
) -> tuple[str, str] | None:
    """The warehouse's (country, city key), as its last address said."""
    row = (
        await conn.execute(
            text("SELECT country, city_key FROM warehouses WHERE warehouse_id = :id"),
            {"id": warehouse_id},
        )
    ).first()
    return None if row is None else (row.country, row.city_key)


async def remember_warehouse(
    conn: AsyncConnection, warehouse_id: uuid.UUID, seller_id: str, country: str, city: str
) -> None:
    await conn.execute(
        text(
            "INSERT INTO warehouses (warehouse_id, seller_id, country, city_key) "
            "VALUES (:id, :seller, :country, :city) ON CONFLICT (warehouse_id) DO UPDATE "
            "SET country = EXCLUDED.country, city_key = EXCLUDED.city_key"
        ),
        {"id": warehouse_id, "seller": seller_id, "country": country, "city": city_key(city)},
    )


# Scheduling a switch reads the orders already recorded in its window; recording an order reads
# the switches already scheduled. Run at once, each would miss the other and the order would
# never be extended (write skew): order recordings share this lock, a scheduling takes it alone,
# so whichever comes second sees what the first committed.
_SWITCH_WINDOWS_LOCK = 0x5F1_5717


async def lock_switch_windows(conn: AsyncConnection, *, exclusive: bool) -> None:
    """Until the transaction ends (the next statement sees what the other side committed)."""
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute(text(f"SELECT {lock}(:key)"), {"key": _SWITCH_WINDOWS_LOCK})


async def remember_order(
    conn: AsyncConnection, order_id: uuid.UUID, seller_id: str, created_at: datetime
) -> None:
    await conn.execute(
        text(
            "INSERT INTO recent_orders (order_id, seller_id, created_at) "
            "VALUES (:id, :seller, :at) ON CONFLICT DO NOTHING"
        ),
        {"id": order_id, "seller": seller_id, "at": created_at},
    )


async def region_provider(conn: AsyncConnection, country: str, city: str) -> str | None:
    """The provider a switch moved this region to, if one has (the latest applied)."""
    row = (
        await conn.execute(
            text(
                "SELECT to_provider FROM switches WHERE country = :country AND city_key = :city "
                "AND applied_at IS NOT NULL ORDER BY cutover_at DESC LIMIT 1"
            ),
            {"country": country, "city": city_key(city)},
        )
    ).first()
    return row.to_provider if row else None


async def warehouses_in(conn: AsyncConnection, country: str, city: str) -> list[uuid.UUID]:
    rows = await conn.execute(
        text(
            "SELECT warehouse_id FROM warehouses WHERE country = :country AND city_key = :city "
            "ORDER BY warehouse_id"
        ),
        {"country": country, "city": city_key(city)},
    )
    return [r.warehouse_id for r in rows]


async def orders_near(
    conn: AsyncConnection, country: str, city: str, since: datetime, until: datetime
) -> list[tuple[uuid.UUID, str, datetime]]:
    """Orders created in [since, until) by the region's pickup sellers: a warehouse there
    collected by pickup (its subscription ACTIVE); one shipping by drop-off does not count."""
    rows = await conn.execute(
        text(
            "SELECT o.order_id, o.seller_id, o.created_at FROM recent_orders o "
            "WHERE o.created_at >= :since AND o.created_at < :until AND EXISTS ("
            " SELECT 1 FROM warehouses w WHERE w.seller_id = o.seller_id"
            " AND w.country = :country AND w.city_key = :city AND w.pickup_active)"
        ),
        {"country": country, "city": city_key(city), "since": since, "until": until},
    )
    return [(r.order_id, r.seller_id, r.created_at) for r in rows]


async def switches_for_seller(conn: AsyncConnection, seller_id: str) -> list[uuid.UUID]:
    """The switches of the regions where the seller is collected by pickup."""
    rows = await conn.execute(
        text(
            "SELECT DISTINCT s.switch_id FROM switches s JOIN warehouses w "
            "ON w.country = s.country AND w.city_key = s.city_key WHERE w.seller_id = :seller "
            "AND w.pickup_active"
        ),
        {"seller": seller_id},
    )
    return [r.switch_id for r in rows]


async def tasks(
    conn: AsyncConnection, provider_code: str | None, day: date | None
) -> list[dict[str, object]]:
    rows = (
        await conn.execute(
            text(
                """
                SELECT t.task_id, t.provider_code, t.warehouse_id, t.seller_id, t.run_date,
                       t.driver_id, t.driver_name, t.driver_phone, t.driver_overdue,
                       t.handed_over,
                       coalesce(json_agg(json_build_object(
                           'package_id', p.package_id, 'order_id', p.order_id,
                           'tracking_number', p.tracking_number, 'status', p.status,
                           'overdue', p.overdue) ORDER BY p.package_id)
                         FILTER (WHERE p.package_id IS NOT NULL), '[]')::text AS packages
                FROM tasks t LEFT JOIN parcels p ON p.task_id = t.task_id
                WHERE (CAST(:provider AS text) IS NULL OR t.provider_code = :provider)
                  AND (CAST(:day AS date) IS NULL OR t.run_date = :day)
                GROUP BY t.task_id ORDER BY t.run_date, t.task_id LIMIT 500
                """
            ),
            {"provider": provider_code, "day": day},
        )
    ).all()
    result = []
    for row in rows:
        item = dict(row._mapping)
        item["packages"] = json.loads(item["packages"])
        item["driver"] = (
            {
                "driver_id": item["driver_id"],
                "name": item["driver_name"],
                "phone": item["driver_phone"],
            }
            if item["driver_id"]
            else None
        )
        for key in ("driver_id", "driver_name", "driver_phone"):
            item.pop(key)
        result.append(item)
    return result


async def _project_subscription(conn: AsyncConnection, event: SubscriptionEvent) -> None:
    """A subscription's row: its provider to review it while `review_pending` (a new request,
    or a switch's move until the new provider reviewed it), by `review_due`."""
    due = getattr(event, "review_due", None)
    pending: bool | None = event.status == "PENDING_REVIEW"
    if isinstance(event, PickupSubscriptionProviderSwitched):
        pending = pending or due is not None
    elif isinstance(event, PickupWindowChanged):
        pending = None  # unchanged
    await conn.execute(
        text(
            """
            INSERT INTO subscriptions (subscription_id, warehouse_id, seller_id,
                                       provider_code, status, review_due, review_pending)
            VALUES (:id, :wh, :seller, :provider, :status, :due, coalesce(:pending, false))
            ON CONFLICT (subscription_id) DO UPDATE
            SET status = EXCLUDED.status, provider_code = EXCLUDED.provider_code,
                review_pending = coalesce(:pending, subscriptions.review_pending),
                review_due = coalesce(EXCLUDED.review_due, subscriptions.review_due),
                review_overdue = subscriptions.review_overdue AND CAST(:due AS timestamptz) IS NULL,
                updated_at = now()
            """
        ),
        {
            "id": event.subscription_id,
            "wh": event.warehouse_id,
            "seller": event.seller_id,
            "provider": event.provider_code,
            "status": event.status,
            "due": due,
            "pending": pending,
        },
    )


async def pending_reviews(
    conn: AsyncConnection, provider_code: str | None
) -> list[dict[str, object]]:
    """The subscriptions a provider has to review (new requests and those a switch moved to
    it), oldest due first: what its batch review works through."""
    rows = await conn.execute(
        text(
            "SELECT subscription_id, warehouse_id, seller_id, provider_code, status, review_due, "
            "review_overdue FROM subscriptions WHERE review_pending "
            "AND (CAST(:provider AS text) IS NULL OR provider_code = :provider) "
            "ORDER BY review_due, subscription_id LIMIT 500"
        ),
        {"provider": provider_code},
    )
    return [dict(r._mapping) for r in rows]


async def waiting_parcels(
    conn: AsyncConnection, warehouse_id: uuid.UUID, except_provider: str
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(package id, task id) of the warehouse's parcels waiting for pickup on another
    provider's run than `except_provider`'s."""
    rows = await conn.execute(
        text(
            "SELECT p.package_id, p.task_id FROM parcels p JOIN tasks t ON t.task_id = p.task_id "
            "WHERE t.warehouse_id = :wh AND t.provider_code <> :provider "
            "AND p.status = 'AWAITING_PICKUP' ORDER BY p.package_id"
        ),
        {"wh": warehouse_id, "provider": except_provider},
    )
    return [(r.package_id, r.task_id) for r in rows]
