"""Mail in the analytics service: its own consumer group over every topic, and the sender
loop. Nothing of it starts while no SMTP server is configured."""

from __future__ import annotations

from services.analytics.notifications.handlers import reactions
from services.analytics.notifications.sender import MailSender
from services.analytics.notifications.settings import MailSettings
from shared.runtime import ServiceRuntime

SOURCES = ("order", "fulfillment", "pickup", "aftersales", "analytics")  # analytics: webhooks


def install(runtime: ServiceRuntime, settings: MailSettings) -> MailSender | None:
    if not settings.enabled:
        return None
    runtime.add_consumer("notifications", list(SOURCES), reactions())
    sender = MailSender(runtime.db, settings)
    runtime.add_loop("mail-sender", sender.run)
    return sender
