"""The analytics service's one reaction: every event of every source topic feeds the
projections."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.service import AnalyticsService
from shared.consumer import ANY_EVENT, Handler
from shared.events import Envelope


def projection_handlers(service: AnalyticsService) -> dict[str, Handler]:
    async def project(conn: AsyncConnection, envelope: Envelope) -> None:
        await service.apply(conn, envelope)

    return {ANY_EVENT: project}
