"""A seller's return policy (stream `return-policy/<seller id>`), within the marketplace's
bounds (AftersalesPolicy): the window after delivery its buyers may ask in (between the
minimum and the maximum), whether it takes change-of-mind requests, whether it offers repair.
A seller without one has the marketplace's defaults (`terms`); requests on its orders are
decided by these terms (`requests.py`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.aftersales.domain.requests import AftersalesPolicy, ReturnTerms
from shared.aggregate import Aggregate, InvalidCommand
from shared.events import EventPayload
from shared.events.aftersales import RETURN_POLICY_STREAM, ReturnPolicySet


@dataclass(frozen=True)
class ReturnPolicy:
    seller_id: str = ""  # "": never set (the marketplace's defaults)
    return_window_days: int | None = None
    accepts_change_of_mind: bool = True
    offers_repair: bool = False
    set_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return bool(self.seller_id)

    def terms(self, policy: AftersalesPolicy) -> ReturnTerms:
        """What requests on this seller's orders are decided by."""
        window = (
            policy.return_window
            if self.return_window_days is None
            else timedelta(days=self.return_window_days)
        )
        return ReturnTerms(window, self.accepts_change_of_mind, self.offers_repair)


@dataclass(frozen=True)
class SetReturnPolicy:
    """The whole policy; the same again changes nothing."""

    seller_id: str
    return_window_days: int
    accepts_change_of_mind: bool
    offers_repair: bool
    now: datetime


Command = SetReturnPolicy


def decide(
    state: ReturnPolicy, command: Command, policy: AftersalesPolicy = AftersalesPolicy()
) -> list[EventPayload]:
    match command:
        case SetReturnPolicy():
            if state.exists and state.seller_id != command.seller_id:
                raise InvalidCommand("seller-mismatch", "a return policy belongs to one seller")
            low, high = _days(policy.min_return_window), _days(policy.max_return_window)
            if not low <= command.return_window_days <= high:
                raise InvalidCommand(
                    "window-out-of-bounds",
                    f"return_window_days must be between {low} and {high} (the marketplace's)",
                )
            if state.exists and (
                state.return_window_days,
                state.accepts_change_of_mind,
                state.offers_repair,
            ) == (
                command.return_window_days,
                command.accepts_change_of_mind,
                command.offers_repair,
            ):
                return []
            return [
                ReturnPolicySet(
                    seller_id=command.seller_id,
                    return_window_days=command.return_window_days,
                    accepts_change_of_mind=command.accepts_change_of_mind,
                    offers_repair=command.offers_repair,
                    at=command.now,
                )
            ]


def _days(window: timedelta) -> int:
    return window.days


def evolve(state: ReturnPolicy, event: EventPayload) -> ReturnPolicy:
    match event:
        case ReturnPolicySet():
            return replace(
                state,
                seller_id=event.seller_id,
                return_window_days=event.return_window_days,
                accepts_change_of_mind=event.accepts_change_of_mind,
                offers_repair=event.offers_repair,
                set_at=event.at,
            )
    return state


def return_policy_aggregate(policy: AftersalesPolicy) -> Aggregate[ReturnPolicy]:
    """Return policies decided within these bounds (the service's, from its settings)."""

    def decide_by_policy(state: ReturnPolicy, command: Command) -> list[EventPayload]:
        return decide(state, command, policy)

    return Aggregate(
        name=RETURN_POLICY_STREAM,
        initial=ReturnPolicy(),
        decide=decide_by_policy,
        evolve=evolve,
        keys=lambda p: (None, p.seller_id or None),
    )


RETURN_POLICY = return_policy_aggregate(AftersalesPolicy())  # within the default bounds
