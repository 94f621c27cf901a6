"""Where mail goes (environment: SHOPFLOW_MAIL_*). Mail is off while no SMTP host is set;
`shopflow up` sets it to its embedded SMTP server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOPFLOW_MAIL_", extra="ignore", hide_input_in_errors=True
    )

    smtp_host: str | None = Field(None, description="the SMTP server; unset: no mail at all")
    smtp_port: int = Field(25, gt=0, lt=65536)
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        "none", description="none, STARTTLS after connecting, or TLS from the start (SMTPS)"
    )
    smtp_username: str | None = Field(None, description="log in when set")
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(10.0, gt=0)
    sender: str = Field("shopflow <no-reply@shopflow.local>", description="the From header")
    send_interval_s: float = Field(1.0, gt=0, description="how often the sender looks for mail")
    send_batch: int = Field(20, ge=1, description="mails sent per SMTP connection at most")
    retry_first_s: float = Field(2.0, gt=0, description="first back-off after a failed send")
    retry_max_s: float = Field(300.0, gt=0, description="the back-off doubles up to this")
    give_up_after_h: float = Field(
        72.0, gt=0, description="a mail still not sent this long after its event is FAILED"
    )
    address_wait_s: float = Field(
        3600.0,
        ge=0,
        description="how long a mail waits for its recipient to become known (a seller "
        "profile, an order seen later than the event on another topic)",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)
