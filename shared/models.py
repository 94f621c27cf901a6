"""Base models for request bodies and events: unknown fields are refused, and so is text
with NUL characters (PostgreSQL cannot store them, so they would fail later as a 500)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _check_text(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    return value


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _check_text(value)


class Body(Model):
    """An HTTP request body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
