"""A seller's logistics complaint (stream `complaint/<complaint id>`): filed against the
carrier of one of its shipped packages, resolved once by an operator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.aftersales import (
    COMPLAINT_STREAM,
    COMPLAINT_TYPES,
    ComplaintStatus,
    ComplaintType,
    LogisticsComplaintFiled,
    LogisticsComplaintResolved,
)


@dataclass(frozen=True)
class Complaint:
    complaint_id: uuid.UUID | None = None
    seller_id: str = ""
    package_id: uuid.UUID | None = None
    carrier: str = ""
    type: str = ""  # a ComplaintType
    description: str = ""
    filed_at: datetime | None = None
    status: ComplaintStatus | None = None  # None: not filed
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class FileComplaint:
    """A seller's complaint about a package it shipped with `carrier` (checked by the
    service against what fulfillment said)."""

    complaint_id: uuid.UUID
    seller_id: str
    package_id: uuid.UUID
    carrier: str
    type: ComplaintType
    description: str
    now: datetime


@dataclass(frozen=True)
class ResolveComplaint:
    resolution: str
    by: str
    now: datetime


Command = FileComplaint | ResolveComplaint


def decide(state: Complaint, command: Command) -> list[EventPayload]:
    match command:
        case FileComplaint():
            if state.complaint_id is not None:
                raise DomainError("complaint-exists", "this complaint exists already")
            if command.type not in COMPLAINT_TYPES:
                raise InvalidCommand(
                    "unknown-type", f"type must be one of {', '.join(COMPLAINT_TYPES)}"
                )
            return [
                LogisticsComplaintFiled(
                    complaint_id=command.complaint_id,
                    seller_id=command.seller_id,
                    package_id=command.package_id,
                    carrier=command.carrier,
                    type=command.type,
                    description=command.description,
                    at=command.now,
                )
            ]
        case ResolveComplaint():
            if state.complaint_id is None:
                raise NotFound("complaint-not-found", "no such complaint")
            if state.status == "RESOLVED":
                raise DomainError("already-resolved", "this complaint is resolved already")
            if not command.resolution.strip():
                raise InvalidCommand("resolution-required", "say how it was resolved")
            return [
                LogisticsComplaintResolved(
                    complaint_id=state.complaint_id,
                    resolution=command.resolution,
                    by=command.by,
                    at=command.now,
                )
            ]


def evolve(state: Complaint, event: EventPayload) -> Complaint:
    match event:
        case LogisticsComplaintFiled():
            return Complaint(
                complaint_id=event.complaint_id,
                seller_id=event.seller_id,
                package_id=event.package_id,
                carrier=event.carrier,
                type=event.type,
                description=event.description,
                filed_at=event.at,
                status="OPEN",
            )
        case LogisticsComplaintResolved():
            return replace(
                state,
                status="RESOLVED",
                resolution=event.resolution,
                resolved_by=event.by,
                resolved_at=event.at,
            )
    return state


def _keys(state: Complaint) -> tuple[uuid.UUID | None, str | None]:
    return None, state.seller_id or None


COMPLAINT = Aggregate(
    name=COMPLAINT_STREAM, initial=Complaint(), decide=decide, evolve=evolve, keys=_keys
)
