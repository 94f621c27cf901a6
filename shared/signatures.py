"""Webhook signatures, the scheme of the big webhook senders (docs/CONTRACT.md):

    X-Shopflow-Timestamp: <unix seconds>
    X-Shopflow-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

The timestamp is signed with the body and must be within a tolerance of the receiver's clock,
so a captured request cannot be replayed later. Anything malformed is simply not valid: the
check never raises on what a caller sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

HEADER = "X-Shopflow-Signature"
TIMESTAMP_HEADER = "X-Shopflow-Timestamp"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """Both headers for `body` sent at `at` (the sender's clock; the receiver's in tests)."""
    timestamp = int(at.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), HEADER: sign(secret, body, timestamp)}


def verify(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: datetime,
    tolerance_s: float,
) -> bool:
    """True when `signature` signs `timestamp` and `body` with `secret` and the timestamp is
    within `tolerance_s` of `now` (either way: clocks drift)."""
    if timestamp is None or signature is None:
        return False
    timestamp, signature = timestamp.strip(), signature.strip()
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False  # ASCII only from here: compare_digest refuses non-ASCII str
    if abs(now.timestamp() - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, body, int(timestamp))
    return hmac.compare_digest(expected.encode(), signature.lower().encode())
