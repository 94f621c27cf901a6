"""The pickup service's configurable defaults (environment: SHOPFLOW_PICKUP_*)."""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.events.pickup import PickupWindow
from shared.money import Money


class PickupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_PICKUP_", extra="ignore")

    review_within_hours: float = 24
    seed_default_providers: bool = True
    collect_within_hours: float = 48
    driver_within_hours: float = 24
    # the daily pickup window of a warehouse whose provider agreed none (a parcel ready before
    # its start is collected that day, else the next day)
    default_pickup_window_start: time = time(14, 0)
    default_pickup_window_end: time = time(18, 0)
    timezone: str = "UTC"  # whose calendar days the runs follow
    relabel_fee_amount: int = Field(500, ge=0)  # minor units charged to the seller per relabel
    relabel_fee_currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")

    @property
    def relabel_fee(self) -> Money:
        return Money(amount=self.relabel_fee_amount, currency=self.relabel_fee_currency)

    @property
    def review_within(self) -> timedelta:
        return timedelta(hours=self.review_within_hours)

    @property
    def collect_within(self) -> timedelta:
        return timedelta(hours=self.collect_within_hours)

    @property
    def driver_within(self) -> timedelta:
        return timedelta(hours=self.driver_within_hours)

    @property
    def default_pickup_window(self) -> PickupWindow:
        return PickupWindow(
            start=self.default_pickup_window_start, end=self.default_pickup_window_end
        )
