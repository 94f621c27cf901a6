"""The order service's configurable defaults (environment: SHOPFLOW_ORDER_*)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.order.domain.order_policy import OrderPolicy
from services.order.domain.risk import RiskRules
from shared.calendar import DEFAULT_DELIVERY, DeliveryCalendars
from shared.events.order import PROGRAMMES, Programme


class OrderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_ORDER_", extra="ignore")

    unpaid_timeout_minutes: float = 30
    remorse_window_minutes: float = 60
    cancellation_auto_approve_hours: float = 24
    dispatch_sla_hours: float = 72  # a LOCAL seller's
    cross_border_dispatch_sla_hours: float = 48  # a CROSS_BORDER (first-mile) seller's
    # "<market>/<programme>" -> hours, over the two above: {"GB/LOCAL": 48}
    dispatch_sla_hours_by_market: dict[str, float] = Field(default_factory=dict)
    dispatch_deadline_from: Literal["created", "placed"] = "created"
    auto_complete_days_after_delivery: float = 7
    missed_dispatch_cancel_days: float = 5
    stock_shortage_cancel_hours: float = 48  # a placed order still short of stock: cancelled
    risk_max_order_total: int | None = 5_000_000
    risk_max_units_per_sku: int | None = 50
    risk_blocked_postal_codes: list[str] = []
    risk_blocked_buyers: list[str] = []
    # markets (country codes) where a new listing waits for an operator's review before
    # buyers can order it: "CN,VN" or ["CN", "VN"]; none by default
    listing_review_markets: Annotated[list[str], NoDecode] = []

    @field_validator("listing_review_markets", mode="before")
    @classmethod
    def _country_codes(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if not isinstance(value, list):
            return value
        codes = [str(v).strip().upper() for v in value if str(v).strip()]
        for code in codes:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(
                    f"SHOPFLOW_ORDER_LISTING_REVIEW_MARKETS: {code!r} is not a country code"
                )
        return codes

    def sla_by_market(self) -> dict[tuple[str, Programme], timedelta]:
        """`dispatch_sla_hours_by_market` checked: a country code and a known programme."""
        table: dict[tuple[str, Programme], timedelta] = {}
        for key, hours in self.dispatch_sla_hours_by_market.items():
            market, _, programme = key.upper().partition("/")
            if len(market) != 2 or not market.isalpha() or programme not in PROGRAMMES:
                raise ValueError(
                    f"SHOPFLOW_ORDER_DISPATCH_SLA_HOURS_BY_MARKET: {key!r} is not "
                    f"<country>/<{' or '.join(PROGRAMMES)}>"
                )
            table[market, programme] = timedelta(hours=hours)
        return table

    def policy(self, delivery: DeliveryCalendars | None = None) -> OrderPolicy:
        """The rules' numbers; deliver-by counts working days of `delivery`'s calendars (the
        shared `Settings.effective_delivery_calendars`: fulfillment estimates by them too)."""
        return OrderPolicy(
            unpaid_timeout=timedelta(minutes=self.unpaid_timeout_minutes),
            remorse_window=timedelta(minutes=self.remorse_window_minutes),
            cancellation_auto_approve=timedelta(hours=self.cancellation_auto_approve_hours),
            dispatch_sla=timedelta(hours=self.dispatch_sla_hours),
            cross_border_dispatch_sla=timedelta(hours=self.cross_border_dispatch_sla_hours),
            dispatch_sla_by_market=self.sla_by_market(),
            dispatch_deadline_from=self.dispatch_deadline_from,
            delivery=delivery or DEFAULT_DELIVERY,
            auto_complete_after=timedelta(days=self.auto_complete_days_after_delivery),
            missed_dispatch_cancel_after=timedelta(days=self.missed_dispatch_cancel_days),
            stock_shortage_cancel_after=timedelta(hours=self.stock_shortage_cancel_hours),
            risk=RiskRules(
                max_order_total=self.risk_max_order_total,
                max_units_per_sku=self.risk_max_units_per_sku,
                blocked_postal_codes=frozenset(c.upper() for c in self.risk_blocked_postal_codes),
                blocked_buyers=frozenset(self.risk_blocked_buyers),
            ),
            listing_review_markets=frozenset(self.listing_review_markets),
        )
