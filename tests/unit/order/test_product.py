"""The product aggregate: a seller lists a SKU once, then changes it."""

from __future__ import annotations

import pytest

from services.order.domain.product import PRODUCT, ChangeProduct, ListProduct, Product, decide
from shared.aggregate import DomainError, NotFound
from shared.money import Money
from tests.unit.order.builders import T0, USD


def test_products_list_once_and_change() -> None:
    command = ListProduct(
        seller_id="s1", sku="A", title="T", price=Money(amount=1, currency=USD), weight_g=1, now=T0
    )
    state = PRODUCT.fold(decide(Product(), command))
    assert state.exists
    with pytest.raises(DomainError):
        decide(state, command)
    change = ChangeProduct(seller_id="s1", sku="A", price=Money(amount=2, currency=USD), now=T0)
    changed = PRODUCT.fold(decide(state, change), state)
    assert changed.price == Money(amount=2, currency=USD) and changed.title == "T"
    with pytest.raises(NotFound):
        decide(
            Product(seller_id="s1", sku="B"),
            ChangeProduct(seller_id="s1", sku="B", title="x", now=T0),
        )


def test_a_change_of_an_unlisted_sku_is_not_found_by_its_name() -> None:
    with pytest.raises(NotFound) as err:
        decide(Product(), ChangeProduct(seller_id="s1", sku="B", title="x", now=T0))
    assert err.value.code == "product-not-found" and "SKU B" in err.value.detail


def test_the_product_stream_is_named_by_seller_and_sku() -> None:
    assert PRODUCT.stream("s1", "A-1") == "product/s1/A-1"
