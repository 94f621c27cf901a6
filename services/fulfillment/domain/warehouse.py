"""A seller's warehouse: registered once, its address changed later (or saved again unchanged,
which changes nothing but is told). Stream `warehouse/<warehouse id>`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.fulfillment import (
    WAREHOUSE_STREAM,
    Contact,
    WarehouseAddressChanged,
    WarehouseAddressResaved,
    WarehouseRegistered,
)


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: uuid.UUID | None = None
    seller_id: str = ""
    name: str = ""
    address: Address | None = None
    contact: Contact | None = None

    @property
    def exists(self) -> bool:
        return self.warehouse_id is not None


@dataclass(frozen=True)
class RegisterWarehouse:
    warehouse_id: uuid.UUID
    seller_id: str
    name: str
    address: Address
    contact: Contact
    now: datetime


@dataclass(frozen=True)
class ChangeWarehouseAddress:
    address: Address
    now: datetime


Command = RegisterWarehouse | ChangeWarehouseAddress


def decide(state: Warehouse, command: Command) -> list[EventPayload]:
    match command:
        case RegisterWarehouse():
            if state.exists:
                raise DomainError("warehouse-exists", "this warehouse exists already")
            return [
                WarehouseRegistered(
                    warehouse_id=command.warehouse_id,
                    seller_id=command.seller_id,
                    name=command.name,
                    address=command.address,
                    contact=command.contact,
                )
            ]
        case ChangeWarehouseAddress():
            if state.warehouse_id is None or state.contact is None:
                raise NotFound("warehouse-not-found", "no such warehouse")
            if command.address == state.address:
                return [  # saved again: nothing changes, but the save is told
                    WarehouseAddressResaved(
                        warehouse_id=state.warehouse_id,
                        seller_id=state.seller_id,
                        address=command.address,
                    )
                ]
            return [
                WarehouseAddressChanged(
                    warehouse_id=state.warehouse_id,
                    seller_id=state.seller_id,
                    name=state.name,
                    address=command.address,
                    contact=state.contact,
                )
            ]


def evolve(state: Warehouse, event: EventPayload) -> Warehouse:
    match event:
        case WarehouseRegistered() | WarehouseAddressChanged():
            return Warehouse(
                event.warehouse_id, event.seller_id, event.name, event.address, event.contact
            )
    return state


WAREHOUSE = Aggregate(
    name=WAREHOUSE_STREAM,
    initial=Warehouse(),
    decide=decide,
    evolve=evolve,
    keys=lambda w: (None, w.seller_id or None),
)
