"""Configuration from the environment (pydantic-settings).

Every service reads the same `Settings`; a per-service database URL
(`SHOPFLOW_<SERVICE>_DATABASE_URL`) wins over the shared `DATABASE_URL`.
"""

from __future__ import annotations

import json
import os
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.calendar import DEFAULT_CALENDARS, DeliveryCalendars, WorkingCalendar

DEV_JWT_SECRET = "shopflow-dev-secret-change-me-0123456789"
DEV_CARRIER_SECRET = "shopflow-dev-carrier-secret"
# Environments where the development secrets may serve; any other refuses to start with them.
DEV_ENVIRONMENTS = ("development", "test")
MIN_SECRET_BYTES = 32
SERVICE_PORTS = {
    "order": 8001,
    "fulfillment": 8002,
    "pickup": 8003,
    "aftersales": 8004,
    "analytics": 8005,
}
SERVICES = tuple(SERVICE_PORTS)


class MarketCalendar(BaseModel):
    """A destination country's calendar for delivery dates (see shared/calendar.py)."""

    model_config = ConfigDict(extra="forbid")
    time_zone: str = "UTC"
    weekend: list[int] = Field(default_factory=lambda: [5, 6], description="0 Monday .. 6 Sunday")
    holidays: list[date] = Field(default_factory=list)
    working_days: list[date] = Field(
        default_factory=list, description="make-up working days that fall on the weekend"
    )
    delivery_working_days: int | None = Field(
        None, ge=0, le=60, description="this market's delivery time; else delivery_working_days"
    )

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(
            time_zone=self.time_zone,
            weekend=frozenset(self.weekend),
            holidays=frozenset(self.holidays),
            working_days=frozenset(self.working_days),
        )


class Settings(BaseSettings):
    # hide_input_in_errors: a refused configuration must not print the secrets it holds.
    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOW_", extra="ignore", hide_input_in_errors=True
    )

    environment: str = Field(
        "development",
        description="development | test (any case); anything else (production, staging) "
        "refuses the development secrets and secrets shorter than 32 bytes",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_idempotence: bool = Field(False, description="on for Apache Kafka, off for Tansu")
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    kafka_topic_prefix: str = Field("", description="namespace for topics, e.g. per test run")
    jwt_secret: str | None = None
    jwt_issuer: str | None = Field(
        None, description="when set, tokens must carry this `iss` (and minted ones do)"
    )
    jwt_audience: str | None = Field(
        None, description="when set, tokens must carry this `aud` (and minted ones do)"
    )
    carrier_secrets: dict[str, str] = Field(default_factory=dict)
    webhook_tolerance_s: int = Field(
        300,
        gt=0,
        description="a signed webhook whose X-Shopflow-Timestamp is further than this from the "
        "service clock is refused (a captured request cannot be replayed later)",
    )
    host: str = "127.0.0.1"
    data_dir: Path = Path(".shopflow")
    embedded_kafka_port: int = 9092
    embedded_smtp_port: int = Field(
        8025,
        description="`shopflow up`'s development SMTP server (unless SHOPFLOW_MAIL_SMTP_HOST "
        "names a real one); it keeps the mail under <data_dir>/mail for `shopflow mail`",
    )
    clock_speed: float = Field(1.0, description="1 = real time; >1 runs the simulated clock faster")
    clock_file: Path | None = Field(
        None,
        description="a simulated clock shared by processes (shared.clock.FileClock): the file "
        "its mover writes; when set, it wins over clock_speed",
    )
    scheduler_interval_s: float = 1.0
    relay_poll_interval_s: float = 1.0
    relay_batch_size: int = 500
    relay_topic_check_interval_s: float = 5.0
    consumer_max_attempts: int = 3
    consumer_fetch_max_wait_ms: int = Field(
        50,
        description="how long the broker may hold a fetch while nothing is new; Tansu holds it "
        "this long even when records arrive meanwhile, so it bounds the consumers' added lag",
    )
    consumer_metadata_max_age_ms: int = Field(
        5000,
        description="how often consumers re-read topic metadata, so a topic created again with "
        "other partitions (an embedded broker's restart) is followed within seconds",
    )
    command_max_attempts: int = 5
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1,
        description="a request body over this many bytes is refused with 413 before it is parsed",
    )
    rate_limit_enabled: bool = Field(
        True, description="writes (POST, PUT, PATCH, DELETE) rate limited per principal"
    )
    rate_limit_per_s: float = Field(
        1000.0, gt=0, description="writes per second a principal may sustain, per process"
    )
    rate_limit_burst: int = Field(
        2000, ge=1, description="writes a principal may send at once before the rate applies"
    )
    retention_days: int = 7
    metrics_access: Literal["operator", "port"] = Field(
        "operator",
        description="how /metrics (business volumes) is served: `operator` on the service's "
        "port to an operator's bearer token; `port` without a token on a port of its own "
        "(`metrics_port_for`), bound to `host`, and not on the service's port",
    )
    metrics_port_offset: int = Field(
        1000, description="in `port` mode, a service's metrics port is its port plus this"
    )

    delivery_working_days: int = Field(
        5,
        ge=0,
        le=60,
        description="deliver-by and the estimated delivery date: this many working days of the "
        "destination's calendar after the dispatch deadline (or the handover)",
    )
    delivery_calendars: dict[str, MarketCalendar] = Field(
        default_factory=dict,
        description="per destination country (ISO 3166 code, `*` for any other): time zone, "
        "weekend, holidays, make-up working days, delivery working days; replaces the built-in "
        "calendar of that country (CN 2026)",
    )
    delivery_calendars_file: Path | None = Field(
        None, description="a JSON file of the same shape as delivery_calendars (which wins)"
    )

    @property
    def is_development(self) -> bool:
        """Development or test (any case): the only environments the dev secrets serve."""
        return self.environment.lower() in DEV_ENVIRONMENTS

    @model_validator(mode="after")
    def _secrets_fit_the_environment(self) -> Settings:
        if self.is_development:
            return self
        where = f"SHOPFLOW_ENVIRONMENT={self.environment}"
        problems = []
        if not self.jwt_secret:
            problems.append(f"SHOPFLOW_JWT_SECRET must be set when {where}")
        else:
            problems += _weak("SHOPFLOW_JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET, where)
        for carrier, secret in sorted(self.carrier_secrets.items()):
            name = f"SHOPFLOW_CARRIER_SECRETS[{carrier}]"
            problems += _weak(name, secret, DEV_CARRIER_SECRET, where)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def effective_jwt_secret(self) -> str:
        return self.jwt_secret or DEV_JWT_SECRET

    @cached_property
    def effective_delivery_calendars(self) -> DeliveryCalendars:
        """The destinations' calendars: the built-in ones, then the file's, then the
        environment's, each replacing a whole country."""
        markets = dict(self.delivery_calendars)
        if self.delivery_calendars_file is not None:
            data = json.loads(self.delivery_calendars_file.read_text())
            markets = {k: MarketCalendar.model_validate(v) for k, v in data.items()} | markets
        markets = {k.upper(): v for k, v in markets.items()}
        default = markets.pop("*", None)
        return DeliveryCalendars(
            calendars={**DEFAULT_CALENDARS, **{k: v.calendar() for k, v in markets.items()}},
            working_days=default.delivery_working_days
            if default and default.delivery_working_days is not None
            else self.delivery_working_days,
            working_days_by_country={
                k: v.delivery_working_days
                for k, v in markets.items()
                if v.delivery_working_days is not None
            },
            default=default.calendar() if default else WorkingCalendar(),
        )

    def carrier_secret(self, carrier: str) -> str | None:
        """The carrier's webhook secret; in development a dev secret serves any carrier,
        elsewhere (test included) a carrier without its own secret has none: its reports are
        refused."""
        secret = self.carrier_secrets.get(carrier)
        if secret is None and self.environment.lower() == "development":
            return DEV_CARRIER_SECRET
        return secret

    def database_url_for(self, service: str) -> str:
        """The SQLAlchemy URL of a service's own database."""
        url = os.environ.get(f"SHOPFLOW_{service.upper()}_DATABASE_URL") or self.database_url
        if not url:
            raise RuntimeError(
                f"no database configured for {service}: set DATABASE_URL or "
                f"SHOPFLOW_{service.upper()}_DATABASE_URL (the launcher does this for you)"
            )
        return to_sqlalchemy_url(url)

    def bootstrap_servers(self) -> str:
        if not self.kafka_bootstrap_servers:
            raise RuntimeError(
                "KAFKA_BOOTSTRAP_SERVERS is not set (the launcher does this for you)"
            )
        return self.kafka_bootstrap_servers

    def topic(self, service: str) -> str:
        return f"{self.kafka_topic_prefix}shopflow.{service}.events"

    def port_for(self, service: str) -> int:
        return int(os.environ.get(f"SHOPFLOW_{service.upper()}_PORT", SERVICE_PORTS[service]))

    def metrics_port_for(self, service: str) -> int:
        """The port /metrics is served on in `port` mode (`SHOPFLOW_<SERVICE>_METRICS_PORT`,
        else the service's port plus `metrics_port_offset`: 9001..9005)."""
        port = os.environ.get(f"SHOPFLOW_{service.upper()}_METRICS_PORT")
        return int(port) if port else self.port_for(service) + self.metrics_port_offset


def _weak(name: str, secret: str, dev_secret: str, where: str) -> list[str]:
    """Why `secret` may not serve outside development (never quoting it)."""
    if secret == dev_secret:
        return [f"{name} is the development secret; set a secret of your own when {where}"]
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return [f"{name} is shorter than {MIN_SECRET_BYTES} bytes; refused when {where}"]
    return []


def to_sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def to_libpq_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
