"""Pure parts of shared/: settings, clock, auth tokens, event registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from shared.auth import decode_token, mint_token
from shared.clock import SimulatedClock
from shared.consumer import UnregisteredReaction, reactions_by_type
from shared.db import Database, is_outage
from shared.embedded import free_port
from shared.events import REGISTRY, EventPayload, UnknownEventType
from shared.events import order as order_events
from shared.problems import PROBLEM_TYPE_BASE, Problem, problem_type
from shared.settings import Settings, to_libpq_url, to_sqlalchemy_url

CONTRACT_ORDER_EVENTS = {
    "ProductListed",
    "ProductChanged",
    "OrderCreated",
    "OrderPaid",
    "OrderPutOnHold",
    "OrderPlaced",
    "ShippingAddressChanged",
    "CancellationRequested",
    "CancellationRejected",
    "OrderCancelled",
    "OrderStatusChanged",
    "OrderCompleted",
}


def test_production_refuses_to_start_without_a_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="SHOPFLOW_JWT_SECRET"):
        Settings(environment="production")
    assert Settings(environment="production", jwt_secret="s" * 32).effective_jwt_secret == "s" * 32


def test_per_service_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/shared")
    monkeypatch.setenv("SHOPFLOW_ORDER_DATABASE_URL", "postgresql://u@h/order")
    settings = Settings()
    assert settings.database_url_for("order") == "postgresql+asyncpg://u@h/order"
    assert settings.database_url_for("pickup") == "postgresql+asyncpg://u@h/shared"
    assert to_libpq_url(to_sqlalchemy_url("postgres://a@b/c")) == "postgresql://a@b/c"


def test_topics_are_named_by_contract_and_prefixable() -> None:
    assert Settings().topic("order") == "shopflow.order.events"
    assert Settings(kafka_topic_prefix="test1.").topic("pickup") == "test1.shopflow.pickup.events"


def test_simulated_clock_advances_and_accelerates() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frozen = SimulatedClock(start=start)
    assert frozen.now() == start
    assert frozen.advance(timedelta(hours=3)) == start + timedelta(hours=3)
    fast = SimulatedClock(start=start, speed=3600.0)
    assert fast.now() >= start
    with pytest.raises(ValueError):
        SimulatedClock(start=datetime(2026, 1, 1))


def test_tokens_round_trip_and_are_checked() -> None:
    secret = "x" * 40
    principal = decode_token(secret, mint_token(secret, sub="u1", role="seller", seller_id="s1"))
    assert principal.role == "seller" and principal.seller_id == "s1"
    with pytest.raises(Problem) as err:
        decode_token("y" * 40, mint_token(secret, sub="u1", role="buyer"))
    assert err.value.status == 401
    expired = mint_token(secret, sub="u1", role="buyer", ttl=timedelta(seconds=-1))
    with pytest.raises(Problem):
        decode_token(secret, expired)
    with pytest.raises(ValueError):
        mint_token(secret, sub="u1", role="admin")


def test_every_contract_event_of_the_order_service_is_registered() -> None:
    assert set(REGISTRY.names("order")) >= CONTRACT_ORDER_EVENTS
    assert order_events.OrderCancelled.model_fields.keys() >= {
        "cancelled_by",
        "reason_code",
        "seller_fault",
    }
    with pytest.raises(UnknownEventType):
        REGISTRY.decode("NoSuchEvent", 1, {})


def test_text_with_nul_characters_is_refused_everywhere() -> None:
    from shared.events.common import Address
    from shared.models import Body

    class Note(Body):
        text: str
        tags: list[str] = []

    with pytest.raises(ValidationError, match="NUL"):
        Note(text="a\x00b")
    with pytest.raises(ValidationError, match="NUL"):
        Note(text="ok", tags=["x", "\x00"])
    with pytest.raises(ValidationError, match="NUL"):
        Address(
            recipient_name="A\x00",
            phone="+1 555",
            line1="x",
            city="c",
            postal_code="1",
            country="US",
        )
    assert Note(text="  fine  ").text == "fine"


@pytest.mark.parametrize(
    ("code", "slug"),
    [
        ("Method not allowed", "method-not-allowed"),
        ("Not found", "not-found"),
        ("dispatch_deadline_passed", "dispatch-deadline-passed"),
        ("rebuild-running", "rebuild-running"),
    ],
)
def test_a_problem_type_is_a_uri_slug_of_its_code(code: str, slug: str) -> None:
    assert problem_type(code) == PROBLEM_TYPE_BASE + slug


def test_a_reaction_keyed_by_an_unregistered_class_fails_the_start() -> None:
    class NotRegistered(EventPayload):
        pass

    async def react(conn, event, envelope) -> None:  # type: ignore[no-untyped-def]
        return None

    assert list(reactions_by_type({order_events.OrderPlaced: react})) == ["OrderPlaced"]
    with pytest.raises(UnregisteredReaction):
        reactions_by_type({NotRegistered: react})


def _raised_by_sqlalchemy(
    cls: type[sa_exc.DBAPIError], driver_error: Exception, invalidated: bool = False
) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver's error: wrapped, caused by it."""
    error = cls("SELECT 1", {}, driver_error, connection_invalidated=invalidated)
    error.__cause__ = driver_error
    return error


def _reset() -> asyncpg.ConnectionDoesNotExistError:
    error = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    error.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        ConnectionResetError(104, "Connection reset by peer"),
        FileNotFoundError(2, "No such file or directory"),  # the server's socket file is gone
        TimeoutError(),  # a connect's
        _reset(),
        asyncpg.PostgresConnectionError("connection failure"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CrashShutdownError("terminating connection because of crash of another server"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        _raised_by_sqlalchemy(sa_exc.OperationalError, Exception("server closed the connection")),
        _raised_by_sqlalchemy(sa_exc.DBAPIError, _reset(), invalidated=True),
        _raised_by_sqlalchemy(
            sa_exc.InterfaceError, asyncpg.InterfaceError("connection is closed"), invalidated=True
        ),
        _raised_by_sqlalchemy(sa_exc.DBAPIError, asyncpg.AdminShutdownError("terminating")),
    ],
    ids=repr,
)
def test_an_unreachable_database_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad payload"),
        RuntimeError("cannot apply this one"),
        KeyError("sku"),
        _raised_by_sqlalchemy(
            sa_exc.IntegrityError, asyncpg.UniqueViolationError("duplicate key value")
        ),
        _raised_by_sqlalchemy(
            sa_exc.IntegrityError, asyncpg.NotNullViolationError("null value in column")
        ),
        _raised_by_sqlalchemy(
            sa_exc.DBAPIError, asyncpg.DataError("invalid input for query argument $1")
        ),
        _raised_by_sqlalchemy(
            sa_exc.InterfaceError,
            asyncpg.InterfaceError("the number of query arguments cannot exceed 32767"),
        ),
        _raised_by_sqlalchemy(sa_exc.ProgrammingError, asyncpg.PostgresSyntaxError("syntax")),
        _raised_by_sqlalchemy(
            sa_exc.DBAPIError, asyncpg.QueryCanceledError("canceling statement due to timeout")
        ),
        asyncpg.SerializationError("could not serialize access"),
    ],
    ids=repr,
)
def test_a_statement_that_fails_on_its_own_is_no_outage(error: Exception) -> None:
    assert not is_outage(error)


async def test_a_database_nothing_listens_for_is_an_outage() -> None:
    db = Database(f"postgresql://shopflow@127.0.0.1:{free_port()}/shopflow")
    try:
        with pytest.raises(Exception) as raised:  # which one is the question
            await db.ping()
    finally:
        await db.close()
    assert is_outage(raised.value)
