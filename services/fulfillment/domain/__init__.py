"""The fulfillment service's domain, pure (no I/O, no clock: commands carry `now`). Rules:
DOMAIN.md section 2. Import from the module that holds a name.

Aggregates (state, commands, decide, evolve, and the Aggregate naming its streams):
- `warehouse.py`   WAREHOUSE, `warehouse/<warehouse id>`: a seller's warehouse.
- `stock.py`       STOCK, `stock/<seller id>`: a seller's units on hand and reservations;
                   folded in one pass, snapshotted by `stock_codec.py`.
- `fulfillment.py` FULFILLMENT, `fulfillment/<order id>`: an order's fulfillment and its
                   packages (state, the order's commands, decide, evolve). Commands of one
                   concept are decided beside it: `package.py` (a package's state; overdue,
                   collection, carrier reports), `shipping.py` (ready to ship: channel, fee,
                   label), `combining.py` (combined parcels), `replacement.py` (an
                   exchange's replacement goods).

Calculations beside them:
- `allocation.py`  which warehouses an order's units are reserved in.
- `packing.py`     which units travel in which package: split rules (bin packing), manual
                   split, replacement packages.
- `logistics.py`   channels, fee templates, tracking-number formats, label rules.
- `stock_codec.py` the stock's snapshot encoding.
"""
