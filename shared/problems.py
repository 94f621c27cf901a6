"""RFC 9457 problem details."""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_TYPE_BASE = "https://shopflow.dev/problems/"


class Problem(Exception):
    def __init__(
        self, status: int, title: str, detail: str, *, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code or title.lower().replace(" ", "-")
        self.extra = extra


def problem_type(code: str) -> str:
    """The problem's type URI: the code as a lower-case slug ("Method not allowed" ->
    .../method-not-allowed)."""
    return PROBLEM_TYPE_BASE + re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )
