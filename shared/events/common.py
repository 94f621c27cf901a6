"""Value types shared by events of several services."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from shared.models import Model
from shared.money import Money

# Where a person gets mail, and the language it is written in (a BCP 47 tag: "zh", "zh-CN",
# "en"); both optional wherever they are given (issue 18).
EmailAddress = Annotated[
    str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["ana@example.com"])
]
Language = Annotated[
    str,
    Field(
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="a BCP 47 language tag, e.g. zh, zh-CN, en",
        examples=["zh-CN", "en"],
    ),
]


class Address(Model):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    recipient_name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 ()\-]{3,40}$")
    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(None, max_length=300)
    city: str = Field(min_length=1, max_length=120)
    region: str | None = Field(None, max_length=120)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class Dimensions(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    length_mm: int = Field(gt=0, le=10_000)
    width_mm: int = Field(gt=0, le=10_000)
    height_mm: int = Field(gt=0, le=10_000)


class LineItem(Model):
    """An ordered SKU with the unit price and weight fixed at order time."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    title: str
    quantity: int = Field(gt=0)
    unit_price: Money
    weight_g: int = Field(ge=0)
    dimensions: Dimensions | None = None
