"""Cursor pagination (CONTRACT.md: `?limit=&cursor=`, `next_cursor`): keyset cursors, opaque
to callers, on a (timestamp, id) sort key."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.problems import Problem

MAX_LIMIT = 200


def encode_cursor(at: datetime, key: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(key)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The position after which the next page starts; a cursor we did not issue is a 422."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        position = datetime.fromisoformat(at), uuid.UUID(key)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Problem(
            422, "Validation failed", "cursor is not one this API issued", code="bad-cursor"
        ) from None
    if position[0].tzinfo is None:
        raise Problem(
            422, "Validation failed", "cursor is not one this API issued", code="bad-cursor"
        )
    return position


def next_cursor(rows: list[tuple[datetime, uuid.UUID]], limit: int) -> str | None:
    """Given up to limit + 1 sort keys, the cursor of the next page (None on the last)."""
    return encode_cursor(*rows[limit - 1]) if len(rows) > limit else None


async def keyset_page(
    conn: AsyncConnection,
    table: str,
    sort: tuple[str, str],
    where: list[str],
    params: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a table's `doc` column, ordered by `sort` (a timestamp and an id column),
    after `cursor`; `where` conditions use named `params`."""
    at, key = sort
    conditions = list(where)
    values = {**params, "limit": limit + 1}
    position = decode_cursor(cursor)
    if position is not None:
        conditions.append(f"({at}, {key}) > (:after_at, :after_key)")
        values["after_at"], values["after_key"] = position
    sql = (
        f"SELECT {at}, {key}, doc FROM {table} "
        f"{'WHERE ' + ' AND '.join(conditions) if conditions else ''} "
        f"ORDER BY {at}, {key} LIMIT :limit"
    )
    rows = (await conn.execute(text(sql), values)).all()
    keys: list[tuple[datetime, uuid.UUID]] = [(r[0], r[1]) for r in rows]
    return [dict(r[2]) for r in rows[:limit]], next_cursor(keys, limit)
