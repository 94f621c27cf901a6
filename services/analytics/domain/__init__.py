"""The analytics projections, pure (no I/O, no clock). Analytics has no aggregate of its
own: it folds every other service's events into order views and counts sellers' metrics.

- `arrival`: an order's events as the projection knows them (`Recorded`, decoded by the
  event registry), and which of them apply in which order, whatever order they arrive in.
- `order_view`: the frozen view of an order and `evolve(view, event) -> view`, one match on
  the event classes.
- `summary`: the one-line summary of each event on a view's timeline.
- `document`: the view's document as the order-views API returns it (view, timeline, events
  applied and held).
- `metrics`: the facts each order contributes and the span of their dates, the metric
  definitions and thresholds, and the formulas over a period.
"""
