"""Tokens at the edge (shared/auth.py): a token is complete or refused with 401, and the
refusal is in our words, never the JWT library's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.auth import authenticate, decode_token, mint_for, mint_token
from shared.problems import Problem
from shared.settings import Settings

SECRET = "unit-test-secret-0123456789abcdef-xyz"


def raw_token(secret: str = SECRET, **claims: Any) -> str:
    """A token exactly as given: what a forger or a careless minter could send."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {"sub": "张伟", "iat": now, "exp": now + timedelta(hours=1)}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret)


def refusal(token: str, **expected: str | None) -> Problem:
    with pytest.raises(Problem) as err:
        decode_token(SECRET, token, **expected)
    assert err.value.status == 401
    return err.value


@pytest.mark.parametrize(
    ("role", "claim"), [("seller", "seller_id"), ("driver", "provider"), ("carrier", "carrier")]
)
def test_a_scoped_role_without_its_scope_claim_is_refused(role: str, claim: str) -> None:
    problem = refusal(raw_token(role=role))
    assert problem.detail == f"a {role} token needs a {claim} claim"
    assert refusal(raw_token(role=role, **{claim: ""})).detail == problem.detail
    assert decode_token(SECRET, raw_token(role=role, **{claim: "SPX"})).role == role


def test_a_scope_claim_that_is_not_a_string_is_refused() -> None:
    assert "provider" in refusal(raw_token(role="driver", provider=["SPX", "GHN"])).detail
    assert "seller_id" in refusal(raw_token(role="buyer", seller_id={"any": 1})).detail


def test_a_token_without_exp_is_refused() -> None:
    assert refusal(raw_token(role="buyer", exp=None)).detail == "the token has no exp claim"


def test_refusals_do_not_echo_the_library() -> None:
    expired = raw_token(role="buyer", exp=datetime.now(UTC) - timedelta(minutes=1))
    assert refusal(expired).detail == "the token has expired"
    details = {
        refusal("not.a.jwt").detail,
        refusal(raw_token("another-secret-of-32-bytes-at-least!", role="buyer")).detail,
        refusal(raw_token(role="buyer", exp="tomorrow")).detail,
        refusal(raw_token(role="buyer", sub=42)).detail,
        refusal(raw_token(role="buyer") + "x").detail,  # a tampered signature
    }
    assert details == {"the token is not one of ours or is malformed"}
    assert refusal(raw_token(role="admin")).detail == "the token has no valid role claim"


def test_issuer_and_audience_are_checked_when_configured() -> None:
    ours = {"issuer": "https://auth.shopflow.cn", "audience": "shopflow"}
    good = raw_token(role="buyer", iss="https://auth.shopflow.cn", aud="shopflow")
    assert decode_token(SECRET, good, **ours).sub == "张伟"
    assert refusal(raw_token(role="buyer", aud="shopflow"), **ours).detail == (
        "the token has no iss claim"
    )
    assert refusal(raw_token(role="buyer", iss="https://auth.shopflow.cn"), **ours).detail == (
        "the token has no aud claim"
    )
    elsewhere = raw_token(role="buyer", iss="https://evil.example", aud="shopflow")
    assert refusal(elsewhere, **ours).detail == "the token was issued by someone else"
    other_app = raw_token(role="buyer", iss="https://auth.shopflow.cn", aud="crm")
    assert refusal(other_app, **ours).detail == "the token is meant for someone else"
    # not configured: any issuer serves; a token meant for an audience we do not claim does not
    assert decode_token(SECRET, raw_token(role="buyer", iss="anyone")).role == "buyer"
    assert refusal(raw_token(role="buyer", aud="crm")).status == 401


def test_minted_tokens_are_complete() -> None:
    for role, claim in (("seller", "seller_id"), ("driver", "provider"), ("carrier", "carrier")):
        with pytest.raises(ValueError, match=f"needs a {claim} claim"):
            mint_token(SECRET, sub="u1", role=role)
    claims = jwt.decode(
        mint_token(SECRET, sub="u1", role="driver", provider="SPX"),
        SECRET,
        algorithms=["HS256"],
    )
    assert claims["exp"] > claims["iat"] and "iss" not in claims and "aud" not in claims


def test_settings_mint_and_check_issuer_and_audience() -> None:
    settings = Settings(jwt_issuer="shopflow-auth", jwt_audience="shopflow-api")
    token = mint_for(settings, sub="op-李", role="operator")
    assert authenticate(settings, token).sub == "op-李"
    with pytest.raises(Problem):
        authenticate(settings, mint_token(settings.effective_jwt_secret, sub="x", role="buyer"))
    with pytest.raises(Problem):  # a token of this deployment is refused by one without aud
        authenticate(Settings(), token)
