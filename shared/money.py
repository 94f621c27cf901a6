from __future__ import annotations

from pydantic import ConfigDict, Field

from shared.models import Model


class Money(Model):
    """Integer minor units and an ISO 4217 currency; never floats."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: int = Field(ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def times(self, n: int) -> Money:
        return Money(amount=self.amount * n, currency=self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)
