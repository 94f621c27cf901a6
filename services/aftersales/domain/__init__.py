"""The aftersales service's domain, pure (no clock, no I/O); imports name the module:

- `ledger.py`: the after-sales ledger of one order, the aggregate (LEDGER, `ledger_aggregate`):
  its order-level commands (order recorded, progress, cancellation refund, review), `decide`
  and `evolve`;
- `ledger_state.py`: the ledger's state (the order as heard of, its requests as `Case`s, its
  review);
- `requests.py`: an after-sales request's commands and rules (open, answer, escalate, ship
  and receive the return, the timers of AftersalesPolicy, the seller's ReturnTerms, settle
  or close);
- `refunds.py`: what a refund pays back (the shipping-fee rule, never more than was paid);
- `complaint.py`: a seller's logistics complaint, the aggregate (COMPLAINT);
- `return_policy.py`: a seller's return policy (window, change of mind, repair), the aggregate
  (RETURN_POLICY, `return_policy_aggregate`).
"""
