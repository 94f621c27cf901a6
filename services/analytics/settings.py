"""The analytics service's configurable defaults (environment: SHOPFLOW_ANALYTICS_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_ANALYTICS_", extra="ignore")

    # A package collected within this after ready to ship counts as picked up on time.
    pickup_within_hours: float = 48
    # A dashboard session lasts this long at most (and never past its token's expiry).
    dashboard_session_hours: float = 12

    @property
    def pickup_window(self) -> timedelta:
        return timedelta(hours=self.pickup_within_hours)
