"""The fulfillment service's configurable defaults (environment: SHOPFLOW_FULFILLMENT_*)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.fulfillment.domain.logistics import FeeTemplate, LogisticsConfig
from services.fulfillment.domain.shipping import PickupStatus


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
        if self.logistics_file is None:
            return LogisticsConfig(carriers_requiring_proof=self.carriers_requiring_proof)
        data = json.loads(self.logistics_file.read_text())
        default = LogisticsConfig()
        return LogisticsConfig(
            carriers_requiring_proof=self.carriers_requiring_proof,
            domestic={k: FeeTemplate(**v) for k, v in data["domestic"].items()}
            if "domestic" in data
            else default.domestic,
            cross_border=FeeTemplate(**data["cross_border"])
            if "cross_border" in data
            else default.cross_border,
            carrier_formats=data.get("carrier_formats", default.carrier_formats),
        )
