"""JWT bearer auth (HS256) with roles; ownership checks are the routes' (404 for others')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Problem

Role = Literal["buyer", "seller", "operator", "carrier", "driver"]
ROLES: tuple[str, ...] = ("buyer", "seller", "operator", "carrier", "driver")


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


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str,
    ttl: timedelta = timedelta(hours=12),
    **claims: Any,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "seller" and not claims.get("seller_id"):
        claims["seller_id"] = sub
    now = datetime.now(UTC)
    body = {"sub": sub, "role": role, "iat": now, "exp": now + ttl}
    body.update({k: v for k, v in claims.items() if v is not None})
    return jwt.encode(body, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.PyJWTError as exc:
        raise Problem(401, "Unauthorized", f"invalid token: {exc}") from exc
    role = claims.get("role")
    if role not in ROLES:
        raise Problem(401, "Unauthorized", "the token has no valid role claim")
    if role == "seller" and not claims.get("seller_id"):
        raise Problem(401, "Unauthorized", "a seller token needs a seller_id claim")
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        seller_id=claims.get("seller_id"),
        carrier=claims.get("carrier"),
        provider=claims.get("provider"),
    )


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Unauthorized", "missing bearer token")
    principal = decode_token(
        request.app.state.runtime.settings.effective_jwt_secret, credentials.credentials
    )
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
