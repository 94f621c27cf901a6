"""Secrets at start-up (shared/settings.py): outside development and test, the development
secrets and short secrets refuse to start, naming the setting and never quoting the secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import DEV_CARRIER_SECRET, DEV_JWT_SECRET, Settings

STRONG = "s3cret-for-上海-warehouse-0123456789"  # >= 32 bytes
assert len(STRONG.encode()) >= 32


def refused(**values: object) -> str:
    with pytest.raises(ValidationError) as err:
        Settings(**values)  # type: ignore[arg-type]
    return str(err.value)


@pytest.mark.parametrize("environment", ["production", "Production", "staging", "prod", ""])
def test_outside_development_the_dev_jwt_secret_refuses_to_start(environment: str) -> None:
    assert "SHOPFLOW_JWT_SECRET must be set" in refused(environment=environment)
    message = refused(environment=environment, jwt_secret=DEV_JWT_SECRET)
    assert "SHOPFLOW_JWT_SECRET is the development secret" in message
    assert DEV_JWT_SECRET not in message


def test_outside_development_a_short_secret_refuses_to_start() -> None:
    short = "短密钥-0123456789"  # 22 bytes
    message = refused(environment="production", jwt_secret=short)
    assert "SHOPFLOW_JWT_SECRET is shorter than 32 bytes" in message and short not in message
    assert "shorter" in refused(environment="production", jwt_secret="x" * 31)
    assert Settings(environment="production", jwt_secret="x" * 32).jwt_secret == "x" * 32


def test_outside_development_carrier_secrets_must_be_their_own_and_long() -> None:
    message = refused(
        environment="PRODUCTION",
        jwt_secret=STRONG,
        carrier_secrets={"SPX": DEV_CARRIER_SECRET, "顺丰": "tiny", "GHN": STRONG},
    )
    assert "SHOPFLOW_CARRIER_SECRETS[SPX] is the development secret" in message
    assert "SHOPFLOW_CARRIER_SECRETS[顺丰] is shorter than 32 bytes" in message
    assert "GHN" not in message and "tiny" not in message and DEV_CARRIER_SECRET not in message


def test_outside_development_a_carrier_without_its_own_secret_has_none() -> None:
    settings = Settings(environment="staging", jwt_secret=STRONG, carrier_secrets={"GHN": STRONG})
    assert settings.carrier_secret("GHN") == STRONG
    assert settings.carrier_secret("SPX") is None


@pytest.mark.parametrize("environment", ["development", "test", "Development", "TEST"])
def test_development_and_test_may_use_the_dev_secrets(environment: str) -> None:
    settings = Settings(environment=environment, carrier_secrets={"GHN": "short"})
    assert settings.effective_jwt_secret == DEV_JWT_SECRET
    assert settings.carrier_secret("GHN") == "short"


@pytest.mark.parametrize(
    "environment, fallback",
    [("development", DEV_CARRIER_SECRET), ("Development", DEV_CARRIER_SECRET), ("test", None)],
)
def test_only_development_lends_a_carrier_the_dev_secret(
    environment: str, fallback: str | None
) -> None:
    assert Settings(environment=environment).carrier_secret("SPX") == fallback


def test_the_environment_refuses_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPFLOW_ENVIRONMENT", "production")
    monkeypatch.setenv("SHOPFLOW_JWT_SECRET", DEV_JWT_SECRET)
    with pytest.raises(ValidationError, match="SHOPFLOW_JWT_SECRET"):
        Settings()
    monkeypatch.setenv("SHOPFLOW_JWT_SECRET", STRONG)
    monkeypatch.setenv("SHOPFLOW_CARRIER_SECRETS", '{"SPX": "shopflow-dev-carrier-secret"}')
    with pytest.raises(ValidationError, match=r"SHOPFLOW_CARRIER_SECRETS\[SPX\]"):
        Settings()
