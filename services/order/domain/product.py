"""A seller's listing of one SKU: listed once, then changed (title, price, weight, size).
Stream `product/<seller id>/<sku>`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.common import Dimensions
from shared.events.order import PRODUCT_STREAM, ProductChanged, ProductListed
from shared.money import Money


@dataclass(frozen=True)
class Product:
    seller_id: str = ""
    sku: str = ""
    title: str = ""
    price: Money | None = None
    weight_g: int = 0
    dimensions: Dimensions | None = None

    @property
    def exists(self) -> bool:
        return self.price is not None


@dataclass(frozen=True)
class ListProduct:
    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    now: datetime
    dimensions: Dimensions | None = None


@dataclass(frozen=True)
class ChangeProduct:
    """Changes the fields given (None: unchanged) of the seller's listing of the SKU."""

    seller_id: str
    sku: str
    now: datetime
    title: str | None = None
    price: Money | None = None
    weight_g: int | None = None
    dimensions: Dimensions | None = None


ProductCommand = ListProduct | ChangeProduct


def decide(state: Product, command: ProductCommand) -> list[EventPayload]:
    match command:
        case ListProduct() if state.exists:
            raise DomainError("product-exists", f"SKU {command.sku} is listed already; PUT it")
        case ListProduct():
            return [
                ProductListed(
                    seller_id=command.seller_id,
                    sku=command.sku,
                    title=command.title,
                    price=command.price,
                    weight_g=command.weight_g,
                    dimensions=command.dimensions,
                )
            ]
        case ChangeProduct():
            if state.price is None:
                raise NotFound("product-not-found", f"SKU {command.sku} is not listed")
            return [
                ProductChanged(
                    seller_id=state.seller_id,
                    sku=state.sku,
                    title=command.title if command.title is not None else state.title,
                    price=command.price if command.price is not None else state.price,
                    weight_g=command.weight_g if command.weight_g is not None else state.weight_g,
                    dimensions=command.dimensions or state.dimensions,
                )
            ]


def evolve(state: Product, event: EventPayload) -> Product:
    match event:
        case ProductListed() | ProductChanged():
            return Product(
                seller_id=event.seller_id,
                sku=event.sku,
                title=event.title,
                price=event.price,
                weight_g=event.weight_g,
                dimensions=event.dimensions,
            )
    return state


PRODUCT = Aggregate(
    name=PRODUCT_STREAM,
    initial=Product(),
    decide=decide,
    evolve=evolve,
    keys=lambda product: (None, product.seller_id),
)
