"""The webhooks' configurable defaults (environment: SHOPFLOW_WEBHOOK_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.analytics.webhooks.rules import Backoff


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_WEBHOOK_", extra="ignore")

    retry_first_s: float = Field(30.0, gt=0, description="the wait after a first failure")
    retry_longest_s: float = Field(3600.0, gt=0, description="waits double up to this")
    retry_for_hours: float = Field(
        24.0, gt=0, description="a delivery failing this long is given up, its endpoint disabled"
    )
    timeout_s: float = Field(10.0, gt=0, description="an attempt's connect and answer time")
    interval_s: float = Field(1.0, gt=0, description="how often the sender looks for due work")
    parallel: int = Field(8, ge=1, description="attempts under way at once, per process")
    max_endpoints_per_seller: int = Field(20, ge=1)

    @property
    def backoff(self) -> Backoff:
        return Backoff(
            first=timedelta(seconds=self.retry_first_s),
            longest=timedelta(seconds=self.retry_longest_s),
            give_up_after=timedelta(hours=self.retry_for_hours),
        )
