"""Structured JSON logs carrying the correlation id, with personal data and secrets masked.

Logs leave the service (shipped, indexed, kept for long): they must not carry what the
database protects. `redact` masks the values of sensitive keys at any depth (addresses,
recipients' names, contacts, phones, emails, tokens, credentials, SQL parameters) and
phone-number-like runs of digits and PostgreSQL's error details (which quote the row) in
every string (the message, errors, tracebacks).
Tracebacks are rendered without their frames' local variables, which hold requests' bodies
and statements' parameters.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor

from shared import context

REDACTED = "[redacted]"
# A key whose lower-cased name contains one of these, or equals one of the exact names.
SENSITIVE_PARTS = (
    "address",
    "recipient",
    "phone",
    "email",
    "token",
    "secret",
    "password",
    "authorization",
    "cookie",
    "parameters",
)
SENSITIVE_KEYS = frozenset({"params", "line1", "line2", "postal_code", "contact", "api_key"})
# 7 to 15 digits (E.164's longest), optionally after a +, in groups separated by spaces,
# hyphens or parentheses, standing alone: not inside a word, an id or a timestamp.
_PHONE = re.compile(r"(?<![\w:.-])\+?\(?\d[\d ()-]{5,}\d(?![\w:.-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# PostgreSQL's error detail quotes the row or key values ("Failing row contains (...)",
# "Key (phone)=(...) already exists"): the driver's error text carries it on its own line.
_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)


def _sensitive(key: object) -> bool:
    name = str(key).lower()
    return name in SENSITIVE_KEYS or any(part in name for part in SENSITIVE_PARTS)


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or _DATE.match(text.lstrip("+(")):
        return text
    return REDACTED


def mask_phones(text: str) -> str:
    """`text` with every phone-number-like run replaced by `[redacted]`."""
    return _PHONE.sub(_mask_phone, text)


def mask_text(text: str) -> str:
    """`text` without phone numbers nor PostgreSQL's error detail (it quotes values)."""
    return mask_phones(_DETAIL.sub("DETAIL: " + REDACTED, text))


def scrub(value: Any) -> Any:
    """A copy of `value` with sensitive keys' values and phone-like strings masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _sensitive(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    return value


def redact(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The structlog processor: masks the event dict in place (see the module's docstring)."""
    for key, value in event.items():
        event[key] = REDACTED if _sensitive(key) else scrub(value)
    return event


def _add_context(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    cid = context.correlation_id.get()
    if cid and "correlation_id" not in event:
        event["correlation_id"] = cid
    return event


def processors() -> list[Processor]:
    """The chain every log line goes through, the redaction last before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        _add_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        redact,
        structlog.processors.JSONRenderer(),
    ]


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(stream=sys.stdout, level=level, format="%(message)s")
    logging.getLogger().setLevel(level)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        processors=processors(),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)  # group membership chatter
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per client request
