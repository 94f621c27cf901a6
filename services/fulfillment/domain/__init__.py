"""The fulfillment service's domain, pure (no I/O, no clock: commands carry `now`). Rules:
DOMAIN.md section 2. Import from the module that holds a name.

Aggregates (state, commands, decide, evolve, and the Aggregate naming its streams):
- `warehouse.py`   WAREHOUSE, `warehouse/<warehouse id>`: a seller's warehouse.
- `stock.py`       STOCK, `stock/<seller id>`: a seller's units on hand and reservations;
                   folded in one pass, snapshotted by `stock_codec.py`.
- `fulfillment.py` FULFILLMENT, `fulfillment/<order id>`: an order's fulfillment and its
                   packages; the commands on one package are in `package.py` (overdue,
                   collection, carrier reports, and the Package state) and `shipping.py`
                   (ready to ship: channel, fee, label).

Calculations beside them:
- `allocation.py`  which warehouses an order's units are reserved in.
- `packing.py`     which units travel in which package: split rules (bin packing), manual
                   split, replacement packages.
- `logistics.py`   channels, fee templates, tracking-number formats, label rules.
- `stock_codec.py` the stock's snapshot encoding.
"""
