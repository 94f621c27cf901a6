"""Wiring of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.analytics import api, dashboard
from services.analytics.notifications import wiring as notifications
from services.analytics.notifications.settings import MailSettings
from services.analytics.service import SOURCES, AnalyticsService
from services.analytics.settings import AnalyticsSettings
from services.analytics.webhooks.settings import WebhookSettings
from services.analytics.webhooks.wiring import install as install_webhooks
from shared.clock import Clock
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

SERVICE = "analytics"


def create_analytics_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    analytics_settings: AnalyticsSettings | None = None,
    webhook_settings: WebhookSettings | None = None,
    mail_settings: MailSettings | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings or Settings(), clock)
    analytics = analytics_settings or AnalyticsSettings()
    analytics_service = AnalyticsService(runtime, analytics.pickup_window)
    analytics_service.runner = runtime.add_consumer(
        "projections",
        list(SOURCES),
        {},
        batch_handler=analytics_service.apply,
    )
    runtime.startup.append(analytics_service.abandon_interrupted_rebuild)
    webhooks = install_webhooks(runtime, webhook_settings)
    mail_sender = notifications.install(runtime, mail_settings or MailSettings())
    app = create_app(
        runtime,
        [api.router, dashboard.router, webhooks.router],
        title="shopflow analytics service",
        description="Order views, seller metrics, projection operations and the seller "
        "dashboard (CONTRACT.md), and the sellers' webhooks (README).",
    )
    app.mount("/dashboard/static", StaticFiles(directory=dashboard.STATIC), name="dashboard-static")
    app.add_middleware(dashboard.DashboardHeaders)
    app.state.analytics_service = analytics_service
    app.state.analytics_settings = analytics
    app.state.webhook_settings = webhooks.settings
    app.state.mail_sender = mail_sender
    return app
