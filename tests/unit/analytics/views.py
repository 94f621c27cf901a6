"""The view documents of hand-built stories, JSON-ready as the order-views API returns them."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from services.analytics.domain.arrival import recorded
from services.analytics.domain.document import view_document
from services.analytics.domain.metrics import OrderFacts, order_facts
from shared.events import Envelope
from tests.stories import Story


def document_of(story: Story, envelopes: list[Envelope] | None = None) -> dict[str, Any]:
    """The story's view document from its events (or these of them), in the given order."""
    known = [recorded(e) for e in (story.envelopes if envelopes is None else envelopes)]
    _, doc = view_document(story.order_id, known)
    json_ready: dict[str, Any] = to_jsonable_python(doc)
    return json_ready


def facts(*stories: Story) -> list[OrderFacts]:
    return [order_facts(document_of(s)) for s in stories]
