"""The aftersales service's configurable defaults (environment: SHOPFLOW_AFTERSALES_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.aftersales.domain.requests import AftersalesPolicy


class AftersalesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_AFTERSALES_", extra="ignore")

    answer_within_hours: float = 48
    return_window_days: float = 15
    escalate_within_hours: float = 72
    ship_return_within_days: float = 7
    receive_within_days: float = 10

    def policy(self) -> AftersalesPolicy:
        return AftersalesPolicy(
            answer_within=timedelta(hours=self.answer_within_hours),
            return_window=timedelta(days=self.return_window_days),
            escalate_within=timedelta(hours=self.escalate_within_hours),
            ship_return_within=timedelta(days=self.ship_return_within_days),
            receive_within=timedelta(days=self.receive_within_days),
        )
