"""The order service's query table: the listings' review queue (`listing_reviews`), one row
per listing that ever went to an operator's review, written in the transaction of the
listing's events, for operators to page through (e.g. the listings PENDING_REVIEW)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.order.domain.product import Product
from services.order.schemas import ProductOut
from shared.events import Envelope
from shared.events.order import ListingReviewStatus
from shared.pagination import keyset_page

_LISTING_KEYS = uuid.UUID("6f1d3f0e-1a7e-4c55-9d0b-18a1157c0f18")  # uuid5 namespace


def listing_key(seller_id: str, sku: str) -> uuid.UUID:
    """A listing's stable id for the queue's cursors (its stream id as a UUID)."""
    return uuid.uuid5(_LISTING_KEYS, f"{seller_id}/{sku}")


async def record_listing(conn: AsyncConnection, state: Product, events: list[Envelope]) -> None:
    """Keep the listing's queue row up to date; a listing never sent to review has none."""
    if state.submitted_at is None:
        return
    doc = ProductOut.of(state, events[-1].stream_version).model_dump(mode="json")
    await conn.execute(
        text(
            """
            INSERT INTO listing_reviews (seller_id, sku, listing_key, market, status,
                                         submitted_at, doc)
            VALUES (:seller, :sku, :key, :market, :status, :at, CAST(:doc AS jsonb))
            ON CONFLICT (seller_id, sku) DO UPDATE
            SET status = EXCLUDED.status, submitted_at = EXCLUDED.submitted_at,
                doc = EXCLUDED.doc
            """
        ),
        {
            "seller": state.seller_id,
            "sku": state.sku,
            "key": listing_key(state.seller_id, state.sku),
            "market": state.market,
            "status": state.review_status,
            "at": state.submitted_at,
            "doc": json.dumps(doc),
        },
    )


async def listings_in_review(
    conn: AsyncConnection,
    status: ListingReviewStatus | None,
    market: str | None,
    seller_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the listings that went to review, filtered, longest waiting first."""
    filters = {"status": status, "market": market, "seller_id": seller_id}
    params = {k: v for k, v in filters.items() if v is not None}
    where = [f"{column} = :{column}" for column in params]
    sort = ("submitted_at", "listing_key")
    return await keyset_page(conn, "listing_reviews", sort, where, params, limit, cursor)
