"""The aftersales service's read model: its query tables (requests, complaints, reviews, and
the shipped packages sellers may complain about), written in the transaction of the events
that change them, and the queries on them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales.domain.complaint import Complaint
from services.aftersales.domain.ledger_state import Ledger
from services.aftersales.schemas import ComplaintOut, RequestOut
from shared.events import Envelope
from shared.events.aftersales import ReviewPosted
from shared.events.fulfillment import ReadyToShip
from shared.pagination import keyset_page


async def project_ledger(conn: AsyncConnection, ledger: Ledger, events: Sequence[Envelope]) -> None:
    version = events[-1].stream_version
    touched = {getattr(e.decode(), "request_id", None) for e in events}
    for request_id in touched:
        case = ledger.cases.get(request_id) if isinstance(request_id, uuid.UUID) else None
        if case is None:
            continue
        doc = RequestOut.of(ledger, case, version).model_dump(mode="json")
        await conn.execute(
            text(
                """
                INSERT INTO requests (request_id, order_id, buyer_id, seller_id, type, status,
                                      requested_at, doc)
                VALUES (:id, :order, :buyer, :seller, :type, :status, :at, CAST(:doc AS jsonb))
                ON CONFLICT (request_id) DO UPDATE
                SET status = EXCLUDED.status, doc = EXCLUDED.doc
                """
            ),
            {
                "id": case.request_id,
                "order": ledger.order_id,
                "buyer": ledger.buyer_id,
                "seller": ledger.seller_id,
                "type": case.type,
                "status": case.status,
                "at": case.requested_at,
                "doc": json.dumps(doc),
            },
        )
    for envelope in events:
        event = envelope.decode()
        if isinstance(event, ReviewPosted):
            await conn.execute(
                text(
                    "INSERT INTO reviews (order_id, buyer_id, seller_id, rating, text, posted_at) "
                    "VALUES (:order, :buyer, :seller, :rating, :text, :at) ON CONFLICT DO NOTHING"
                ),
                {
                    "order": event.order_id,
                    "buyer": event.buyer_id,
                    "seller": event.seller_id,
                    "rating": event.rating,
                    "text": event.text,
                    "at": event.at,
                },
            )


async def project_complaint(
    conn: AsyncConnection, complaint: Complaint, events: Sequence[Envelope]
) -> None:
    doc = ComplaintOut.of(complaint, events[-1].stream_version).model_dump(mode="json")
    await conn.execute(
        text(
            """
            INSERT INTO complaints (complaint_id, seller_id, package_id, carrier, type, status,
                                    filed_at, doc)
            VALUES (:id, :seller, :package, :carrier, :type, :status, :at, CAST(:doc AS jsonb))
            ON CONFLICT (complaint_id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
            """
        ),
        {
            "id": complaint.complaint_id,
            "seller": complaint.seller_id,
            "package": complaint.package_id,
            "carrier": complaint.carrier,
            "type": complaint.type,
            "status": complaint.status,
            "at": complaint.filed_at,
            "doc": json.dumps(doc),
        },
    )


async def remember_shipment(conn: AsyncConnection, event: ReadyToShip) -> None:
    """A carrier's shipment, for complaints against it (a self-delivered package has no
    carrier to complain about)."""
    if event.tracking_number is None:
        return
    await conn.execute(
        text(
            """
            INSERT INTO shipments (package_id, order_id, seller_id, carrier, tracking_number)
            VALUES (:id, :order, :seller, :carrier, :tn)
            ON CONFLICT (package_id) DO UPDATE
            SET carrier = EXCLUDED.carrier, tracking_number = EXCLUDED.tracking_number
            """
        ),
        {
            "id": event.package_id,
            "order": event.order_id,
            "seller": event.seller_id,
            "carrier": event.carrier,
            "tn": event.tracking_number,
        },
    )


@dataclass(frozen=True)
class Shipment:
    package_id: uuid.UUID
    order_id: uuid.UUID
    seller_id: str
    carrier: str
    tracking_number: str


async def shipment(conn: AsyncConnection, package_id: uuid.UUID) -> Shipment | None:
    row = (
        await conn.execute(
            text(
                "SELECT package_id, order_id, seller_id, carrier, tracking_number FROM shipments "
                "WHERE package_id = :id"
            ),
            {"id": package_id},
        )
    ).first()
    return Shipment(*row) if row else None


async def order_of_request(conn: AsyncConnection, request_id: uuid.UUID) -> uuid.UUID | None:
    result = await conn.execute(
        text("SELECT order_id FROM requests WHERE request_id = :id"), {"id": request_id}
    )
    order_id: uuid.UUID | None = result.scalar_one_or_none()
    return order_id


@dataclass(frozen=True)
class Owner:
    """Whose rows a caller may list: a buyer's, a seller's, or (operator) everyone's."""

    column: str | None  # buyer_id, seller_id or None
    value: str | None = None


async def _page(
    conn: AsyncConnection,
    table: str,
    sort: tuple[str, str],
    owner: Owner,
    filters: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    where = [f"{column} = :{column}" for column in filters]
    params = dict(filters)
    if owner.column is not None:
        where.append(f"{owner.column} = :owner")
        params["owner"] = owner.value
    return await keyset_page(conn, table, sort, where, params, limit, cursor)


async def requests(
    conn: AsyncConnection,
    owner: Owner,
    order_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    filters: dict[str, Any] = {}
    if order_id is not None:
        filters["order_id"] = order_id
    if status is not None:
        filters["status"] = status
    return await _page(
        conn, "requests", ("requested_at", "request_id"), owner, filters, limit, cursor
    )


async def complaints(
    conn: AsyncConnection, owner: Owner, status: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    filters: dict[str, Any] = {"status": status} if status else {}
    return await _page(
        conn, "complaints", ("filed_at", "complaint_id"), owner, filters, limit, cursor
    )
