"""The fulfillment service's configurable defaults (environment: SHOPFLOW_FULFILLMENT_*)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.fulfillment.domain.logistics import (
    CHANNELS,
    FeeTemplate,
    LogisticsConfig,
    ShippingOptionRule,
)
from services.fulfillment.domain.shipping import PickupStatus


class ShippingOptionSetting(BaseModel):
    """One shipping option's rule (see `ShippingOptionRule`)."""

    model_config = ConfigDict(extra="forbid")
    channels: list[str] | None = Field(None, description="allowed channel codes; null: every one")
    transit_working_days: int | None = Field(None, ge=0, le=60)

    @field_validator("channels")
    @classmethod
    def _known(cls, channels: list[str] | None) -> list[str] | None:
        unknown = sorted(set(channels or ()) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channels {unknown}: one of {', '.join(CHANNELS)}")
        return channels

    def rule(self) -> ShippingOptionRule:
        channels = None if self.channels is None else frozenset(self.channels)
        return ShippingOptionRule(channels, self.transit_working_days)


class FulfillmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_FULFILLMENT_", extra="ignore")

    # Until the pickup service says otherwise, every warehouse is served by this provider.
    default_provider_code: str = "SPX"
    default_tracking_prefix: str = "SPX"
    default_handover: str = "PICKUP"
    # A JSON file replacing the default fee templates and carrier formats, e.g.
    # {"domestic": {"SAME_CITY": {"first_kg": 15000, "per_extra_500g": 5000}, ...},
    #  "cross_border": {"first_kg": 150000, "per_extra_500g": 50000},
    #  "carrier_formats": {"GHN": "^[A-Z0-9]{8,12}$"}}
    logistics_file: Path | None = None
    # Carriers whose DELIVERED reports must carry a proof (signature or photo reference), e.g.
    # SHOPFLOW_FULFILLMENT_CARRIERS_REQUIRING_PROOF='["DHL"]'; a report without one gets 422.
    carriers_requiring_proof: frozenset[str] = frozenset()
    # The buyer's shipping option -> the channels its packages may ship with and its most
    # working days in transit; each option listed replaces the built-in one of that name, e.g.
    # {"EXPRESS": {"channels": ["PLATFORM_PICKUP"], "transit_working_days": 1},
    #  "ECONOMY": {"channels": null, "transit_working_days": null}}
    shipping_options: dict[str, ShippingOptionSetting] = Field(default_factory=dict)
    # An exchange's replacement package must be ready to ship within this.
    replacement_dispatch_hours: float = 72

    @property
    def replacement_dispatch_within(self) -> timedelta:
        return timedelta(hours=self.replacement_dispatch_hours)

    def default_pickup(self) -> PickupStatus:
        return PickupStatus(
            self.default_handover, self.default_provider_code, self.default_tracking_prefix
        )

    def logistics(self) -> LogisticsConfig:
        default = LogisticsConfig()
        options = {
            **default.shipping_options,
            **{name: option.rule() for name, option in self.shipping_options.items()},
        }
        if self.logistics_file is None:
            return replace(
                default,
                shipping_options=options,
                carriers_requiring_proof=self.carriers_requiring_proof,
            )
        data = json.loads(self.logistics_file.read_text())
        return LogisticsConfig(
            carriers_requiring_proof=self.carriers_requiring_proof,
            domestic={k: FeeTemplate(**v) for k, v in data["domestic"].items()}
            if "domestic" in data
            else default.domestic,
            cross_border=FeeTemplate(**data["cross_border"])
            if "cross_border" in data
            else default.cross_border,
            carrier_formats=data.get("carrier_formats", default.carrier_formats),
            shipping_options=options,
        )
