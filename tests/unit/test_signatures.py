"""Webhook signatures (shared/signatures.py): the timestamp is signed with the body and must
be within the tolerance of the receiver's clock; anything malformed is invalid, never an
exception."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from shared.signatures import HEADER, TIMESTAMP_HEADER, sign, signed_headers, verify

SECRET = "carrier-secret-顺丰-0123456789abcdef"
BODY = '{"tracking_number":"SF1234567890","location":"深圳宝安"}'.encode()
NOW = datetime(2026, 11, 11, 11, 11, 11, tzinfo=UTC)


def check(timestamp: str | None, signature: str | None, now: datetime = NOW) -> bool:
    return verify(SECRET, BODY, timestamp, signature, now=now, tolerance_s=300)


def test_a_signature_covers_the_timestamp_and_the_body() -> None:
    headers = signed_headers(SECRET, BODY, NOW)
    ts = headers[TIMESTAMP_HEADER]
    assert ts == str(int(NOW.timestamp()))
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers[HEADER] == f"sha256={expected}"
    assert check(ts, headers[HEADER])
    assert check(ts, headers[HEADER].upper().replace("SHA256=", "sha256="))
    assert not check(str(int(ts) + 1), headers[HEADER])
    assert not verify(SECRET, BODY + b" ", ts, headers[HEADER], now=NOW, tolerance_s=300)
    assert not verify("other" + SECRET, BODY, ts, headers[HEADER], now=NOW, tolerance_s=300)


def test_a_timestamp_outside_the_tolerance_is_refused_either_way() -> None:
    headers = signed_headers(SECRET, BODY, NOW)
    ts, sig = headers[TIMESTAMP_HEADER], headers[HEADER]
    assert check(ts, sig, NOW + timedelta(seconds=300))
    assert check(ts, sig, NOW - timedelta(seconds=300))
    assert not check(ts, sig, NOW + timedelta(seconds=301))  # replayed later
    assert not check(ts, sig, NOW - timedelta(seconds=301))  # dated ahead to last longer


def test_the_old_body_only_signature_is_refused() -> None:
    body_only = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert not check(str(int(NOW.timestamp())), body_only)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, None),
        ("1", None),
        (None, sign(SECRET, BODY, 1)),
        ("", ""),
        ("1793531471", "sha256=" + "é" * 64),  # non-ASCII: compare_digest raised before
        ("1793531471", "sha256=签名"),
        ("1793531471", "sha1=" + "0" * 40),
        ("1793531471", "sha256=" + "0" * 63),
        ("1793531471", "sha256=" + "z" * 64),
        ("\uff11" * 10, sign(SECRET, BODY, 1)),  # full-width digits
        ("-1793531471", sign(SECRET, BODY, 1)),
        ("1e9", sign(SECRET, BODY, 1)),
        ("9" * 400, sign(SECRET, BODY, 1)),
        ("1793531471\x00", sign(SECRET, BODY, 1)),
    ],
)
def test_malformed_headers_are_invalid_not_errors(
    timestamp: str | None, signature: str | None
) -> None:
    assert check(timestamp, signature) is False
