"""The pickup service's configurable defaults (environment: SHOPFLOW_PICKUP_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class PickupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_PICKUP_", extra="ignore")

    review_within_hours: float = 24
    seed_default_providers: bool = True

    @property
    def review_within(self) -> timedelta:
        return timedelta(hours=self.review_within_hours)
