"""Shipping fees: a base fee per shipping option, and a fee per started extra kilogram."""

from __future__ import annotations

from dataclasses import dataclass

from shared.money import Money


@dataclass(frozen=True)
class ShippingOption:
    base_fee: int
    per_extra_kg: int


def shipping_fee(option: ShippingOption, weight_g: int, currency: str) -> Money:
    """Base fee covers the first kilogram; each started kilogram after it costs extra."""
    extra_kg = max(0, -(-weight_g // 1000) - 1)
    return Money(amount=option.base_fee + extra_kg * option.per_extra_kg, currency=currency)
