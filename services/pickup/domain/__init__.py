"""The pickup service's domain, pure (no clock, no I/O). Rules: DOMAIN.md section 3.

Aggregates, one module each (state, commands, decide, evolve, the aggregate):
- `provider`: a pickup provider, its tracking prefix, the cities it covers and the hub
  receiving each region's parcels (`provider/<code>`); also the default providers of a
  fresh system.
- `subscription`: a warehouse's pickup subscription: requested, reviewed, declined, flagged
  overdue, moved by a provider switch (`subscription/<warehouse id>`).
- `switch`: a region's move to another provider at a cutover (`switch/<switch id>`).
- `extensions`: the switches whose dispatch extension an order has had
  (`extensions/<order id>`).
- `parcel`: a ready-to-ship package on the first mile: awaited, picked up or dropped off,
  at the hub, overdue, a label defect found at the hub and its relabel fee
  (`parcel/<package id>`).
- `task`: one provider's collection run at one warehouse on one day (`task/<task id>`).

Calculations:
- `coverage`: which provider covers an address (city names compared loosely).
- `cutover`: which orders a switch extends (the day before and the day of the cutover).
- `collection_runs`: the run a parcel joins (cut-off, region's calendar) and its task id.
"""
