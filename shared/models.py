"""Base models for request bodies and events: unknown fields are refused, and so is text
with NUL characters (PostgreSQL cannot store them, so they would fail later as a 500)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, field_validator

EARLIEST_YEAR, LATEST_YEAR = 1900, 8999


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


def _in_range(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_in_range)]
"""A time with its offset, in years where adding an offset or a window of days (or of
centuries) cannot overflow Python's or PostgreSQL's range (a 422 instead of a 500)."""
