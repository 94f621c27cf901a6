"""`shopflow token` mints complete tokens: a seller's shop defaults to its sub, a driver needs
its provider, and the deployment's issuer and audience are set."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shared.auth import decode_token
from shared.cli import app
from shared.settings import DEV_JWT_SECRET


def test_the_token_command_mints_complete_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    seller = runner.invoke(app, ["token", "seller", "--sub", "shop-杭州"])
    assert seller.exit_code == 0, seller.output
    assert decode_token(DEV_JWT_SECRET, seller.output.strip()).seller_id == "shop-杭州"
    driver = runner.invoke(app, ["token", "driver", "--sub", "drv-1"])
    assert driver.exit_code != 0 and "needs a provider claim" in driver.output

    monkeypatch.setenv("SHOPFLOW_JWT_ISSUER", "shopflow-auth")
    monkeypatch.setenv("SHOPFLOW_JWT_AUDIENCE", "shopflow-api")
    minted = runner.invoke(app, ["token", "driver", "--sub", "drv-1", "--provider", "SPX"])
    assert minted.exit_code == 0, minted.output
    principal = decode_token(
        DEV_JWT_SECRET, minted.output.strip(), issuer="shopflow-auth", audience="shopflow-api"
    )
    assert principal.provider == "SPX"
