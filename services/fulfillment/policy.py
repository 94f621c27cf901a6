"""The fulfillment service's configurable defaults (environment: SHOPFLOW_FULFILLMENT_*)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.fulfillment.domain import PickupStatus


class FulfillmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPFLOW_FULFILLMENT_", extra="ignore")

    # Until the pickup service says otherwise, every warehouse is served by this provider.
    default_provider_code: str = "SPX"
    default_tracking_prefix: str = "SPX"
    default_handover: str = "PICKUP"

    def default_pickup(self) -> PickupStatus:
        return PickupStatus(
            self.default_handover, self.default_provider_code, self.default_tracking_prefix
        )
