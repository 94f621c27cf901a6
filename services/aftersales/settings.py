"""The aftersales service's configurable defaults (environment: SHOPFLOW_AFTERSALES_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.aftersales.domain.requests import AftersalesPolicy


class AftersalesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_AFTERSALES_", extra="ignore")

    answer_within_hours: float = 48
    return_window_days: float = 15
    escalate_within_hours: float = 72
    ship_return_within_days: float = 7
    receive_within_days: float = 10
    # a seller's own return window (its return policy) lies within these, in whole days
    min_return_window_days: int = Field(7, ge=1)
    max_return_window_days: int = Field(90, ge=1)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> AftersalesSettings:
        if self.min_return_window_days > self.max_return_window_days:
            raise ValueError("min_return_window_days is above max_return_window_days")
        return self

    def policy(self) -> AftersalesPolicy:
        return AftersalesPolicy(
            answer_within=timedelta(hours=self.answer_within_hours),
            return_window=timedelta(days=self.return_window_days),
            escalate_within=timedelta(hours=self.escalate_within_hours),
            ship_return_within=timedelta(days=self.ship_return_within_days),
            receive_within=timedelta(days=self.receive_within_days),
            min_return_window=timedelta(days=self.min_return_window_days),
            max_return_window=timedelta(days=self.max_return_window_days),
        )
