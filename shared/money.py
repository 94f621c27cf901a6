from __future__ import annotations

from pydantic import ConfigDict, Field

from shared.models import Model

MAX_AMOUNT = 10**12


class MoneyOverflow(ValueError):
    """A sum or a product of amounts over MAX_AMOUNT: the request asked for too much (422)."""


class Money(Model):
    """Integer minor units and an ISO 4217 currency; never floats."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: int = Field(ge=0, le=MAX_AMOUNT)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=_capped(self.amount + other.amount), currency=self.currency)

    def times(self, n: int) -> Money:
        return Money(amount=_capped(self.amount * n), currency=self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)


def _capped(amount: int) -> int:
    if amount > MAX_AMOUNT:
        raise MoneyOverflow(f"an amount of {amount} minor units is over the cap of {MAX_AMOUNT}")
    return amount
