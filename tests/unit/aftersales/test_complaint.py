"""A seller's logistics complaint, pure: filed once, resolved once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.aftersales.domain.complaint import (
    COMPLAINT,
    Complaint,
    FileComplaint,
    ResolveComplaint,
    decide,
)
from shared.aggregate import DomainError, InvalidCommand, NotFound

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)


def test_a_complaint_is_filed_and_resolved_once() -> None:
    cid, pid = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(InvalidCommand):
        decide(Complaint(), FileComplaint(cid, "s1", pid, "SPX", "LATE", "x", T0))
    with pytest.raises(NotFound):
        decide(Complaint(), ResolveComplaint("paid", "op", T0))
    state = COMPLAINT.fold(
        decide(Complaint(), FileComplaint(cid, "s1", pid, "SPX", "LOSS", "gone", T0))
    )
    assert state.status == "OPEN"
    state = COMPLAINT.fold(decide(state, ResolveComplaint("compensated", "op", T0)), state)
    assert (state.status, state.resolution) == ("RESOLVED", "compensated")
    with pytest.raises(DomainError):
        decide(state, ResolveComplaint("again", "op", T0))
