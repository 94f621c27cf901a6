"""The order service's configurable defaults (environment: SHOPFLOW_ORDER_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.order.domain.order_policy import OrderPolicy
from services.order.domain.risk import RiskRules
from shared.calendar import DEFAULT_DELIVERY, DeliveryCalendars


class OrderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_ORDER_", extra="ignore")

    unpaid_timeout_minutes: float = 30
    remorse_window_minutes: float = 60
    cancellation_auto_approve_hours: float = 24
    dispatch_sla_hours: float = 72
    auto_complete_days_after_delivery: float = 7
    missed_dispatch_cancel_days: float = 5
    risk_max_order_total: int | None = 5_000_000
    risk_max_units_per_sku: int | None = 50
    risk_blocked_postal_codes: list[str] = []
    risk_blocked_buyers: list[str] = []

    def policy(self, delivery: DeliveryCalendars | None = None) -> OrderPolicy:
        """The rules' numbers; deliver-by counts working days of `delivery`'s calendars (the
        shared `Settings.effective_delivery_calendars`: fulfillment estimates by them too)."""
        return OrderPolicy(
            unpaid_timeout=timedelta(minutes=self.unpaid_timeout_minutes),
            remorse_window=timedelta(minutes=self.remorse_window_minutes),
            cancellation_auto_approve=timedelta(hours=self.cancellation_auto_approve_hours),
            dispatch_sla=timedelta(hours=self.dispatch_sla_hours),
            delivery=delivery or DEFAULT_DELIVERY,
            auto_complete_after=timedelta(days=self.auto_complete_days_after_delivery),
            missed_dispatch_cancel_after=timedelta(days=self.missed_dispatch_cancel_days),
            risk=RiskRules(
                max_order_total=self.risk_max_order_total,
                max_units_per_sku=self.risk_max_units_per_sku,
                blocked_postal_codes=frozenset(c.upper() for c in self.risk_blocked_postal_codes),
                blocked_buyers=frozenset(self.risk_blocked_buyers),
            ),
        )
