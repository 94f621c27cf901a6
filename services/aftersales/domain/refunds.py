"""What a refund pays back, pure (DOMAIN.md section 4):

- an item is refunded at the unit price paid for it, times the quantity requested;
- the shipping fee is refunded when the order's last unit is refunded and the reason is the
  seller's (not one of BUYER_REASONS), or whatever the reason before the order shipped, or when
  a paid order is cancelled;
- a cancelled paid order is refunded what was paid and not refunded yet, once;
- the refunds of an order never add up to more than what was paid.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.aftersales.domain.ledger_state import OPEN, Case, Ledger
from shared.events.aftersales import BUYER_REASONS, NO_REFUND_TYPES, RequestedItem
from shared.money import Money


def refund_amount(state: Ledger, items: Sequence[RequestedItem], reason_code: str) -> Money:
    """What refunding these items of a paid order pays back, by the rules above."""
    assert state.paid is not None and state.shipping_fee is not None
    amount = sum(state.items[i.sku].unit_price.amount * i.quantity for i in items)
    claimed_after = {sku: state.claimed(sku) for sku in state.items}
    for item in items:
        claimed_after[item.sku] += item.quantity
    whole_order = all(claimed_after[sku] >= it.quantity for sku, it in state.items.items())
    if whole_order and (reason_code not in BUYER_REASONS or not state.shipped):
        amount += state.shipping_fee.amount
    return Money(amount=max(0, min(amount, refundable(state))), currency=state.paid.currency)


def refundable(state: Ledger) -> int:
    """What is left to refund (minor units): paid, less refunded, less what open requests
    promise."""
    assert state.paid is not None
    pending = sum(
        c.refund_amount.amount
        for c in state.cases.values()
        if c.status in OPEN and c.type not in NO_REFUND_TYPES
    )
    return state.paid.amount - state.refunded - pending


def settlement(state: Ledger, case: Case) -> Money:
    """What settling a request refunds: its amount, never more than is left of what was paid."""
    assert state.paid is not None
    amount = min(case.refund_amount.amount, state.paid.amount - state.refunded)
    return Money(amount=amount, currency=case.refund_amount.currency)


def cancellation_refund(state: Ledger) -> Money | None:
    """What a cancelled order gets back: what was paid and not refunded yet; None if nothing
    (not paid, or all refunded already)."""
    if state.paid is None or state.refunded >= state.paid.amount:
        return None
    return Money(amount=state.paid.amount - state.refunded, currency=state.paid.currency)
