"""The fulfillment service's own query tables, kept in the same transaction as the events
(projected by `project`), their queries, and the sellers' split rules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.fulfillment.domain.fulfillment import FulfillmentStatus
from services.fulfillment.domain.packing import SplitRules
from services.fulfillment.domain.shipping import PickupStatus
from shared.events import Envelope
from shared.events.fulfillment import (
    STATUS_BY_EVENT,
    FulfillmentRequested,
    PackagesCancelled,
    PackagesCombined,
    PackagesPlanned,
    PackageStatus,
    PackagesUncombined,
    ReadyToShip,
    ReplacementAwaitingStock,
    ReplacementPlanned,
    StockShortage,
    TrackingEvent,
    WarehouseAddressChanged,
    WarehouseRegistered,
)
from shared.events.pickup import HubAddress, RegionHub


async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        event = envelope.decode()
        match event:
            case WarehouseRegistered() | WarehouseAddressChanged():
                await conn.execute(
                    text(
                        """
                        INSERT INTO warehouses (warehouse_id, seller_id, country, city)
                        VALUES (:id, :seller, :country, :city)
                        ON CONFLICT (warehouse_id) DO UPDATE
                        SET country = EXCLUDED.country, city = EXCLUDED.city, updated_at = now()
                        """
                    ),
                    {
                        "id": event.warehouse_id,
                        "seller": event.seller_id,
                        "country": event.address.country,
                        "city": event.address.city,
                    },
                )
            case FulfillmentRequested():
                await conn.execute(
                    text(
                        "INSERT INTO fulfillment_orders "
                        "(order_id, seller_id, buyer_id, status, placed_at) "
                        "VALUES (:id, :seller, :buyer, 'NEW', :placed_at) ON CONFLICT DO NOTHING"
                    ),
                    {
                        "id": event.order_id,
                        "seller": event.seller_id,
                        "buyer": event.buyer_id,
                        "placed_at": event.placed_at,
                    },
                )
            case StockShortage():
                await _order_status(conn, event.order_id, "AWAITING_STOCK")
            case PackagesPlanned():
                await _order_status(conn, event.order_id, "PLANNED")
                await conn.execute(
                    text("DELETE FROM packages WHERE package_id = ANY(:ids) AND order_id = :order"),
                    {"ids": list(event.replaced), "order": event.order_id},
                )
                await _insert_packages(conn, event)
            case ReplacementPlanned():
                await _insert_packages(conn, event)
                await conn.execute(
                    text("DELETE FROM waiting_replacements WHERE request_id = :id"),
                    {"id": event.request_id},
                )
            case ReplacementAwaitingStock():
                await conn.execute(
                    text(
                        "INSERT INTO waiting_replacements (request_id, order_id, seller_id) "
                        "VALUES (:id, :order, :seller) ON CONFLICT DO NOTHING"
                    ),
                    {"id": event.request_id, "order": event.order_id, "seller": event.seller_id},
                )
            case ReadyToShip():
                await conn.execute(
                    text(
                        "UPDATE packages SET status = :status, tracking_number = :tn, "
                        "updated_at = now() WHERE package_id = :id AND order_id = :order"
                    ),
                    {
                        "id": event.package_id,
                        "tn": event.tracking_number,
                        "order": event.order_id,
                        "status": STATUS_BY_EVENT[ReadyToShip],
                    },
                )
            case TrackingEvent():
                status = STATUS_BY_EVENT[type(event)]
                await _package_status(conn, event.order_id, [event.package_id], status)
            case PackagesCombined():
                await _package_status(conn, event.order_id, event.package_ids, "COMBINED")
                await conn.execute(
                    text(
                        "INSERT INTO packages (package_id, order_id, seller_id, buyer_id, "
                        "warehouse_id, status) SELECT :combined, order_id, seller_id, buyer_id, "
                        "warehouse_id, 'PLANNED' FROM packages "
                        "WHERE order_id = :order AND package_id = :first"
                    ),
                    {
                        "combined": event.combined_package_id,
                        "order": event.order_id,
                        "first": event.package_ids[0],
                    },
                )
            case PackagesUncombined():
                await conn.execute(
                    text("DELETE FROM packages WHERE package_id = :id AND order_id = :order"),
                    {"id": event.combined_package_id, "order": event.order_id},
                )
                await _package_status(conn, event.order_id, event.package_ids, "PLANNED")
            case PackagesCancelled():
                await _order_status(conn, event.order_id, "CANCELLED")
                await _package_status(conn, event.order_id, event.package_ids, "CANCELLED")


async def _insert_packages(
    conn: AsyncConnection, event: PackagesPlanned | ReplacementPlanned
) -> None:
    for package in event.packages:
        await conn.execute(
            text(
                "INSERT INTO packages (package_id, order_id, seller_id, buyer_id, "
                "warehouse_id, status) VALUES (:id, :order, :seller, :buyer, :wh, 'PLANNED')"
            ),
            {
                "id": package.package_id,
                "order": event.order_id,
                "seller": event.seller_id,
                "buyer": event.buyer_id,
                "wh": package.warehouse_id,
            },
        )


async def waiting_replacements(
    conn: AsyncConnection, seller_id: str
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(order, request) of the seller's exchanges waiting for stock."""
    rows = await conn.execute(
        text(
            "SELECT order_id, request_id FROM waiting_replacements WHERE seller_id = :seller "
            "ORDER BY created_at, request_id"
        ),
        {"seller": seller_id},
    )
    return [(r.order_id, r.request_id) for r in rows]


async def _package_status(
    conn: AsyncConnection,
    order_id: uuid.UUID,
    package_ids: Sequence[uuid.UUID],
    status: PackageStatus,
) -> None:
    await conn.execute(
        text(
            "UPDATE packages SET status = :status, updated_at = now() "
            "WHERE order_id = :order AND package_id = ANY(:ids)"
        ),
        {"order": order_id, "ids": list(package_ids), "status": status},
    )


async def _order_status(
    conn: AsyncConnection, order_id: uuid.UUID, status: FulfillmentStatus
) -> None:
    await conn.execute(
        text("UPDATE fulfillment_orders SET status = :status WHERE order_id = :id"),
        {"id": order_id, "status": status},
    )


async def waiting_orders(conn: AsyncConnection, seller_id: str) -> list[uuid.UUID]:
    """The seller's orders waiting for stock, first placed first (a restock serves them in
    this order, as far as it goes)."""
    rows = await conn.execute(
        text(
            "SELECT order_id FROM fulfillment_orders "
            "WHERE seller_id = :seller AND status = 'AWAITING_STOCK' "
            "ORDER BY placed_at NULLS FIRST, order_id"
        ),
        {"seller": seller_id},
    )
    return [r.order_id for r in rows]


async def split_rules(conn: AsyncConnection, seller_id: str) -> tuple[SplitRules, int]:
    row = (
        await conn.execute(
            text(
                "SELECT max_weight_g, max_items, ship_alone_skus::text AS alone, version "
                "FROM split_rules WHERE seller_id = :seller"
            ),
            {"seller": seller_id},
        )
    ).first()
    if row is None:
        return SplitRules(), 0
    return SplitRules(
        row.max_weight_g, row.max_items, frozenset(json.loads(row.alone))
    ), row.version


async def save_split_rules(conn: AsyncConnection, seller_id: str, rules: SplitRules) -> int:
    row = await conn.execute(
        text(
            """
            INSERT INTO split_rules (seller_id, max_weight_g, max_items, ship_alone_skus)
            VALUES (:seller, :weight, :items, CAST(:alone AS jsonb))
            ON CONFLICT (seller_id) DO UPDATE SET
                max_weight_g = EXCLUDED.max_weight_g, max_items = EXCLUDED.max_items,
                ship_alone_skus = EXCLUDED.ship_alone_skus,
                version = split_rules.version + 1, updated_at = now()
            RETURNING version
            """
        ),
        {
            "seller": seller_id,
            "weight": rules.max_weight_g,
            "items": rules.max_items,
            "alone": json.dumps(sorted(rules.ship_alone_skus)),
        },
    )
    return int(row.scalar_one())


@dataclass(frozen=True)
class PackageRef:
    package_id: uuid.UUID
    order_id: uuid.UUID
    seller_id: str
    buyer_id: str
    warehouse_id: uuid.UUID


async def package_refs(conn: AsyncConnection, package_id: uuid.UUID) -> list[PackageRef]:
    """The package in each order it serves (a combined parcel serves several)."""
    rows = await conn.execute(
        text(
            "SELECT package_id, order_id, seller_id, buyer_id, warehouse_id FROM packages "
            "WHERE package_id = :id ORDER BY order_id"
        ),
        {"id": package_id},
    )
    return [PackageRef(*r) for r in rows]


async def pickup_status(
    conn: AsyncConnection, warehouse_id: uuid.UUID, default: PickupStatus, now: datetime
) -> PickupStatus:
    """Who collects from this warehouse now: what the pickup service last said of it (the
    default provider until it has), and the provider of a switch of its region whose cutover
    has passed, even if the pickup service's follow-up events have not arrived yet."""
    row = (
        await conn.execute(
            text(
                r"""
                SELECT w.handover, w.provider_code, w.tracking_prefix,
                       s.provider_code AS switched_code, s.tracking_prefix AS switched_prefix
                FROM warehouses w
                LEFT JOIN LATERAL (
                    SELECT provider_code, tracking_prefix FROM region_switches r
                    WHERE r.country = w.country
                      AND r.city_key = lower(regexp_replace(trim(w.city), '\s+', ' ', 'g'))
                      AND r.cutover_at <= :now
                    ORDER BY r.cutover_at DESC LIMIT 1
                ) s ON true
                WHERE w.warehouse_id = :id AND w.handover IS NOT NULL
                """
            ),
            {"id": warehouse_id, "now": now},
        )
    ).first()
    if row is None:
        return default
    if row.switched_code and row.provider_code and row.switched_code != row.provider_code:
        return PickupStatus(row.handover, row.switched_code, row.switched_prefix)
    return PickupStatus(
        row.handover,
        row.provider_code or default.provider_code,
        row.tracking_prefix or default.tracking_prefix,
    )


async def record_region_hubs(
    conn: AsyncConnection, provider_code: str, hubs: Sequence[RegionHub]
) -> None:
    """The provider's receiving hubs by region, as its latest configuration has them."""
    await conn.execute(
        text("DELETE FROM region_hubs WHERE provider_code = :code"), {"code": provider_code}
    )
    if hubs:
        await conn.execute(
            text(
                "INSERT INTO region_hubs (provider_code, country, city_key, hub) "
                "VALUES (:code, :country, :city, CAST(:hub AS jsonb)) ON CONFLICT DO NOTHING"
            ),
            [
                {
                    "code": provider_code,
                    "country": h.country,
                    "city": " ".join(h.city.split()).lower(),
                    "hub": h.hub.model_dump_json(),
                }
                for h in hubs
            ],
        )


async def receiving_hub(
    conn: AsyncConnection, warehouse_id: uuid.UUID, provider_code: str
) -> HubAddress | None:
    """The hub of `provider_code` that receives the warehouse's region's parcels, if named."""
    row = (
        await conn.execute(
            text(
                r"""
                SELECT h.hub::text AS hub FROM warehouses w
                JOIN region_hubs h ON h.provider_code = :code AND h.country = w.country
                 AND h.city_key = lower(regexp_replace(trim(w.city), '\s+', ' ', 'g'))
                WHERE w.warehouse_id = :id
                """
            ),
            {"id": warehouse_id, "code": provider_code},
        )
    ).first()
    return HubAddress.model_validate_json(row.hub) if row else None


async def record_switch(
    conn: AsyncConnection,
    switch_id: uuid.UUID,
    country: str,
    city: str,
    provider_code: str,
    tracking_prefix: str,
    cutover_at: datetime,
) -> None:
    await conn.execute(
        text(
            "INSERT INTO region_switches (switch_id, country, city_key, provider_code, "
            "tracking_prefix, cutover_at) VALUES (:id, :country, :city, :code, :prefix, :at) "
            "ON CONFLICT DO NOTHING"
        ),
        {
            "id": switch_id,
            "country": country,
            "city": " ".join(city.split()).lower(),
            "code": provider_code,
            "prefix": tracking_prefix,
            "at": cutover_at,
        },
    )


async def record_pickup_status(
    conn: AsyncConnection,
    warehouse_id: uuid.UUID,
    handover: str,
    provider_code: str | None,
    tracking_prefix: str | None,
) -> None:
    await conn.execute(
        text(
            "UPDATE warehouses SET handover = :handover, provider_code = :provider, "
            "tracking_prefix = :prefix, updated_at = now() WHERE warehouse_id = :id"
        ),
        {
            "id": warehouse_id,
            "handover": handover,
            "provider": provider_code,
            "prefix": tracking_prefix,
        },
    )


async def next_tracking_sequence(conn: AsyncConnection) -> int:
    return int((await conn.execute(text("SELECT nextval('tracking_number_seq')"))).scalar_one())


async def claim_tracking(
    conn: AsyncConnection, carrier: str, tracking_number: str, package_id: uuid.UUID
) -> bool:
    """Claim the carrier's tracking number for the package, in the caller's transaction:
    False when another package holds it. A concurrent claim of the same number waits for
    the first to commit or roll back (the table's primary key)."""
    params = {"carrier": carrier, "tn": tracking_number, "id": package_id}
    inserted = await conn.execute(
        text(
            "INSERT INTO tracking_claims (carrier, tracking_number, package_id) "
            "VALUES (:carrier, :tn, :id) ON CONFLICT DO NOTHING RETURNING package_id"
        ),
        params,
    )
    if inserted.first() is not None:
        return True
    holder = await package_by_tracking(conn, carrier, tracking_number)
    return holder == package_id


async def package_by_tracking(
    conn: AsyncConnection, carrier: str, tracking_number: str
) -> uuid.UUID | None:
    """The package the carrier's tracking number was claimed by."""
    holder = await conn.execute(
        text(
            "SELECT package_id FROM tracking_claims "
            "WHERE carrier = :carrier AND tracking_number = :tn"
        ),
        {"carrier": carrier, "tn": tracking_number},
    )
    found: uuid.UUID | None = holder.scalar_one_or_none()
    return found
