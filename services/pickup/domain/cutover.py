"""Which orders a provider switch extends: those created on the day before or the day of the
cutover, as the region's calendar counts days."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def in_switch_window(created_at: datetime, cutover_at: datetime, timezone: str) -> bool:
    """Was the order created on the day before or the day of the cutover, as the region's
    calendar counts days?"""
    zone = ZoneInfo(timezone)
    cutover_day = cutover_at.astimezone(zone).date()
    created_day = created_at.astimezone(zone).date()
    return cutover_day - timedelta(days=1) <= created_day <= cutover_day
