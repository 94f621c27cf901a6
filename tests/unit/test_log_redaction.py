"""Logs carry no personal data nor secrets: the redacting processor of shared/logging.py."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from shared.logging import REDACTED, mask_phones, processors, redact


def test_sensitive_keys_are_masked_at_any_depth() -> None:
    event = {
        "event": "order created",
        "order_id": "3f1c2a9e-5b7d-4c1e-9a0b-2d4e6f8a0c1e",
        "body": {
            "shipping_address": {"recipient_name": "Ann Lee", "line1": "1 Main St"},
            "items": [{"sku": "TEE-1", "quantity": 2}],
            "warehouses": [{"contact": {"name": "Bob", "phone": "0912"}, "city": "Hanoi"}],
        },
        "headers": {"Authorization": "Bearer eyJ.x.y", "Cookie": "shopflow_dashboard=abc"},
        "email": "ann@example.com",
        "refresh_token": "r-123",
        "parameters": ("Ann Lee", "1 Main St"),
        "sql": {"params": ["1 Main St"]},
    }
    out = redact(None, "info", event)
    assert out["order_id"] == "3f1c2a9e-5b7d-4c1e-9a0b-2d4e6f8a0c1e"
    assert out["body"]["shipping_address"] == REDACTED
    assert out["body"]["items"] == [{"sku": "TEE-1", "quantity": 2}]
    assert out["body"]["warehouses"] == [{"contact": REDACTED, "city": "Hanoi"}]
    assert out["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED}
    assert out["email"] == out["refresh_token"] == out["parameters"] == REDACTED
    assert out["sql"] == {"params": REDACTED}
    assert "Ann" not in json.dumps(out) and "Main" not in json.dumps(out)


@pytest.mark.parametrize(
    "phone",
    ["+1 555 0100", "+84 912 345 678", "(555) 123-4567", "0912345678", "+44-20-7946-0958"],
)
def test_phone_numbers_in_messages_are_masked(phone: str) -> None:
    assert mask_phones(f"could not reach {phone}, retrying") == (
        f"could not reach {REDACTED}, retrying"
    )
    assert redact(None, "info", {"event": f"call {phone}"})["event"] == f"call {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "at 2026-11-02 09:00:00+00:00",
        "2026-11-02T09:00:00Z",
        "order 123e4567-e89b-12d3-a456-426614174000",
        "order 12345678-1234-1234-1234-123456789012",
        "connect to 127.0.0.1:54321 failed",
        "took 0.12345678 s",
        "offset 123456",
        "tracking 9400100000000001234",
        "topic t1a2b3c4.shopflow.order.events partition 2",
    ],
)
def test_ids_timestamps_addresses_of_hosts_and_counts_are_not_taken_for_phones(
    text: str,
) -> None:
    assert mask_phones(text) == text


def test_a_logged_exception_carries_no_local_variables() -> None:
    structlog.contextvars.clear_contextvars()  # what earlier tests bound is not this line's
    out = io.StringIO()
    log = structlog.wrap_logger(structlog.PrintLogger(out), processors=processors())

    def handle(order: dict[str, str]) -> None:
        recipient = order["who"]  # a local the traceback must not show
        raise ValueError(f"cannot deliver to {recipient[:3]}")

    try:
        handle({"who": "Ann Lee of 1 Main St", "phone": "+84 912 345 678"})
    except ValueError:
        log.exception("delivery failed", phone="+84 912 345 678")
    line = out.getvalue()
    assert json.loads(line)["exception"][0]["exc_type"] == "ValueError"
    assert "Main St" not in line and "912" not in line and "Lee" not in line


def test_postgresqls_error_detail_which_quotes_the_row_is_masked() -> None:
    error = (
        'null value in column "attempts" violates not-null constraint\n'
        "DETAIL:  Failing row contains (1, Ann Lee, 1 Main St).\nHINT:  none"
    )
    assert redact(None, "error", {"error": error})["error"] == (
        'null value in column "attempts" violates not-null constraint\n'
        f"DETAIL: {REDACTED}\nHINT:  none"
    )
