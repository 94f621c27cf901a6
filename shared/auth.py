"""JWT bearer auth (HS256) with roles; ownership checks are the routes' (404 for others')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.aggregate import NotFound
from shared.problems import Problem
from shared.settings import Settings

Role = Literal["buyer", "seller", "operator", "carrier", "driver"]
ROLES: tuple[str, ...] = ("buyer", "seller", "operator", "carrier", "driver")
# The claim that scopes a role to its own resources: without it a token would see everyone's.
SCOPE_CLAIMS: dict[str, str] = {"seller": "seller_id", "carrier": "carrier", "driver": "provider"}


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    seller_id: str | None = None
    carrier: str | None = None
    provider: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def sellers_reach(self, seller_id: str | None) -> str | None:
        """The seller whose data this caller may reach when it asks for `seller_id`: an
        operator the one asked for (None: every seller), a seller only its own (another's is
        a 404, as if it did not exist)."""
        if self.is_operator:
            return seller_id
        if seller_id is not None and seller_id != self.seller_id:
            raise NotFound("seller-not-found", "no such seller among yours")
        return self.seller_id


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str,
    ttl: timedelta = timedelta(hours=12),
    issuer: str | None = None,
    audience: str | None = None,
    **claims: Any,
) -> str:
    """A complete token: a seller's, carrier's or driver's without its scope claim is refused
    here (ValueError) rather than minted and refused by every service."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    scope = SCOPE_CLAIMS.get(role)
    if scope and not claims.get(scope):
        raise ValueError(f"a {role} token needs a {scope} claim")
    now = datetime.now(UTC)
    body = {"sub": sub, "role": role, "iat": now, "exp": now + ttl}
    if issuer:
        body["iss"] = issuer
    if audience:
        body["aud"] = audience
    body.update({k: v for k, v in claims.items() if v is not None})
    return jwt.encode(body, secret, algorithm="HS256")


def mint_for(settings: Settings, *, sub: str, role: str, **claims: Any) -> str:
    """`mint_token` with the deployment's secret, issuer and audience."""
    return mint_token(
        settings.effective_jwt_secret,
        sub=sub,
        role=role,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        **claims,
    )


def _refusal(exc: jwt.PyJWTError) -> str:
    """Our own words for why a token is refused: the library's text is not echoed."""
    match exc:
        case jwt.ExpiredSignatureError():
            return "the token has expired"
        case jwt.ImmatureSignatureError():
            return "the token is not valid yet"
        case jwt.MissingRequiredClaimError():
            return f"the token has no {exc.claim} claim"
        case jwt.InvalidIssuerError():
            return "the token was issued by someone else"
        case jwt.InvalidAudienceError():
            return "the token is meant for someone else"
        case _:
            return "the token is not one of ours or is malformed"


def decode_token(
    secret: str, token: str, *, issuer: str | None = None, audience: str | None = None
) -> Principal:
    """The caller of a token (401 otherwise): signed with `secret`, not expired (`exp` is
    required), from `issuer` and for `audience` when given, with its role's scope claim."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=issuer,
            audience=audience,
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise Problem(401, "Unauthorized", _refusal(exc), code="invalid-token") from None
    role = claims.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise Problem(
            401, "Unauthorized", "the token has no valid role claim", code="invalid-token"
        )
    scope = SCOPE_CLAIMS.get(role)
    for name in SCOPE_CLAIMS.values():
        value = claims.get(name)
        if value is not None and not isinstance(value, str):
            raise Problem(
                401,
                "Unauthorized",
                f"the token's {name} claim is not a string",
                code="invalid-token",
            )
    if scope and not claims.get(scope):
        raise Problem(
            401, "Unauthorized", f"a {role} token needs a {scope} claim", code="invalid-token"
        )
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        seller_id=claims.get("seller_id"),
        carrier=claims.get("carrier"),
        provider=claims.get("provider"),
    )


def authenticate(settings: Settings, token: str) -> Principal:
    """`decode_token` with the deployment's secret, issuer and audience: what every edge
    (routes, the idempotency middleware, the dashboard) uses."""
    return decode_token(
        settings.effective_jwt_secret,
        token,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Unauthorized", "missing bearer token")
    principal = authenticate(request.app.state.runtime.settings, credentials.credentials)
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Any:
    """A dependency that answers 403 unless the caller has one of `roles`."""

    def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Problem(
                403,
                "Forbidden",
                f"role {principal.role!r} may not do this; needs {', '.join(roles)}",
            )
        return principal

    return Depends(check)
