"""Cursor pagination (CONTRACT.md: `?limit=&cursor=`, `next_cursor`): keyset cursors, opaque
to callers, on a (timestamp, id) sort key."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.problems import Problem

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


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
