"""The analytics projections, pure (no I/O, no clock). Analytics has no aggregate of its
own: it folds every other service's events into order views and counts sellers' metrics.

- `arrival`: which of an order's events apply and in which order, whatever order they arrive
  in; events decoded (and upcast) by the event registry.
- `order_view`: the frozen view of an order and `evolve(view, event) -> view`.
- `summary`: the one-line summary of each event on a view's timeline.
- `document`: the view document the API returns (view, timeline, events applied and held).
- `metrics`: the facts each order contributes, the metric definitions and thresholds, and
  the formulas over a period.
"""
