"""A seller's profile: who the seller is on its labels and invoices (the registered full name,
the shop's name, the registered address with its region, a contact), and where its
notifications go (an optional email and language). The seller keeps it;
a seller without one cannot print a label (DOMAIN.md section 2: the label shows the seller's
full name). Stream `seller-profile/<seller id>`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate, InvalidCommand
from shared.events import EventPayload
from shared.events.fulfillment import (
    SELLER_PROFILE_STREAM,
    BusinessAddress,
    Contact,
    SellerProfileChanged,
    SellerProfileFacts,
    SellerProfileRegistered,
)


@dataclass(frozen=True)
class SellerProfile:
    seller_id: str = ""
    legal_name: str = ""
    shop_name: str = ""
    address: BusinessAddress | None = None
    contact: Contact | None = None
    email: str | None = None
    language: str | None = None

    @property
    def exists(self) -> bool:
        return bool(self.seller_id)


@dataclass(frozen=True)
class KeepProfile:
    """Set the whole profile: registers it the first time, changes it afterwards."""

    seller_id: str
    legal_name: str
    shop_name: str
    address: BusinessAddress
    contact: Contact
    now: datetime
    email: str | None = None
    language: str | None = None


Command = KeepProfile


def decide(state: SellerProfile, command: Command) -> list[EventPayload]:
    match command:
        case KeepProfile():
            if state.exists and state.seller_id != command.seller_id:
                raise InvalidCommand("seller-mismatch", "a profile belongs to one seller")
            facts = {
                "seller_id": command.seller_id,
                "legal_name": command.legal_name,
                "shop_name": command.shop_name,
                "address": command.address,
                "contact": command.contact,
                "email": command.email,
                "language": command.language,
            }
            if not state.exists:
                return [SellerProfileRegistered(**facts)]
            if _unchanged(state, command):
                return []
            return [SellerProfileChanged(**facts)]


def _unchanged(state: SellerProfile, command: KeepProfile) -> bool:
    return (
        state.legal_name,
        state.shop_name,
        state.address,
        state.contact,
        state.email,
        state.language,
    ) == (
        command.legal_name,
        command.shop_name,
        command.address,
        command.contact,
        command.email,
        command.language,
    )


def evolve(state: SellerProfile, event: EventPayload) -> SellerProfile:
    match event:
        case SellerProfileFacts():
            return SellerProfile(
                event.seller_id,
                event.legal_name,
                event.shop_name,
                event.address,
                event.contact,
                event.email,
                event.language,
            )
    return state


SELLER_PROFILE = Aggregate(
    name=SELLER_PROFILE_STREAM,
    initial=SellerProfile(),
    decide=decide,
    evolve=evolve,
    keys=lambda p: (None, p.seller_id or None),
)
