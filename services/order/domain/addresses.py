"""Shipping address rules: the fields a parcel needs, and postal codes per country."""

from __future__ import annotations

import re

from shared.events.common import Address

REQUIRED_FIELDS = ("recipient_name", "phone", "line1", "city", "postal_code", "country")

_POSTAL_CODES = {
    "US": r"^\d{5}(-\d{4})?$",
    "DE": r"^\d{5}$",
    "FR": r"^\d{5}$",
    "ES": r"^\d{5}$",
    "IT": r"^\d{5}$",
    "GB": r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$",
    "VN": r"^\d{6}$",
    "ID": r"^\d{5}$",
    "TH": r"^\d{5}$",
    "MY": r"^\d{5}$",
    "PH": r"^\d{4}$",
    "SG": r"^\d{6}$",
}
_GENERIC_POSTAL_CODE = r"^[A-Z0-9][A-Z0-9 \-]{1,9}$"


def normalized_postal_code(postal_code: str) -> str:
    return postal_code.strip().upper()


def postal_code_valid(country: str, postal_code: str) -> bool:
    pattern = _POSTAL_CODES.get(country, _GENERIC_POSTAL_CODE)
    return re.match(pattern, normalized_postal_code(postal_code)) is not None


def missing_fields(address: Address) -> list[str]:
    """The required fields the address leaves blank."""
    return [name for name in REQUIRED_FIELDS if not str(getattr(address, name) or "").strip()]
