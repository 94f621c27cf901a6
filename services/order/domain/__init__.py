"""The order service's domain, pure: no I/O and no clock (time comes in with each command).

Aggregates (state, commands, `decide`, `evolve`, the aggregate constant):
- `product`: a seller's listing of one SKU (stream `product/<seller>/<sku>`), and its review
  before listing in markets that require one.
- `order`: the order aggregate (stream `order/<order id>`): `decide` hands each command to
  the module of its concept, `evolve` folds the events; its state is in `order_state`.
  - `order_intake`: creation, payment, the automatic and the operator's review, placement,
    the address change.
  - `order_cancellation`: cancellations by buyer, seller, operator and the system, and the
    buyer's cancellation request.
  - `order_delivery`: after placement: the packages' statuses, dispatch extensions, receipt,
    completion, after-sales cases and refunds.
  - `order_stock`: a placed order short of stock waits (restocked, cancelled by the seller,
    or cancelled at the seller's fault when the wait runs out).

Rules that are calculations:
- `order_policy`: every number of the order rules (`OrderPolicy`), with its default.
- `fees`: shipping fees by option and weight.
- `risk`: the automatic review of a paid order (`RiskRules`, `review_order`).
- `addresses`: the fields a shipping address needs, postal codes per country.
- `packages`: how far along its way a package status is; the order status its packages give.

Rules: DOMAIN.md section 1.
"""
