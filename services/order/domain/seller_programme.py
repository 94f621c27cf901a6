"""A seller's programme (stream `seller-programme/<seller id>`): LOCAL until an operator
enrols it in another. An order takes its seller's programme when it is created, and with it
its base dispatch SLA (`OrderPolicy.dispatch_sla_for`); a later change moves no order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate
from shared.events import EventPayload
from shared.events.order import SELLER_PROGRAMME_STREAM, Programme, SellerProgrammeSet


@dataclass(frozen=True)
class SellerProgramme:
    seller_id: str = ""
    programme: Programme = "LOCAL"  # a seller never enrolled is a local seller
    set_at: datetime | None = None


@dataclass(frozen=True)
class SetProgramme:
    seller_id: str
    programme: Programme
    set_by: str
    now: datetime


def decide(state: SellerProgramme, command: SetProgramme) -> list[EventPayload]:
    match command:
        case SetProgramme() if state.set_at is not None and state.programme == command.programme:
            return []  # already so
        case SetProgramme():
            return [
                SellerProgrammeSet(
                    seller_id=command.seller_id,
                    programme=command.programme,
                    set_by=command.set_by,
                    set_at=command.now,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def evolve(state: SellerProgramme, event: EventPayload) -> SellerProgramme:
    match event:
        case SellerProgrammeSet():
            return SellerProgramme(event.seller_id, event.programme, event.set_at)
    return state


SELLER_PROGRAMME = Aggregate(
    name=SELLER_PROGRAMME_STREAM,
    initial=SellerProgramme(),
    decide=decide,
    evolve=evolve,
    keys=lambda s: (None, s.seller_id or None),
)
