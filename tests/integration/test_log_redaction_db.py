"""A statement that fails is logged without its bound parameters (the real PostgreSQL)."""

from __future__ import annotations

import io
import json

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.db import Database
from shared.logging import processors


async def test_a_failing_statements_log_line_has_no_parameter_values(order_db: str) -> None:
    db = Database(order_db)
    out = io.StringIO()
    log = structlog.wrap_logger(structlog.PrintLogger(out), processors=processors())
    try:
        with pytest.raises(IntegrityError) as failed:
            async with db.transaction() as conn:
                await conn.execute(
                    text(
                        'INSERT INTO dead_letters (consumer, topic, partition, "offset", value, '
                        "error, attempts) VALUES (:consumer, 't', 0, 1, :value, 'e', :attempts)"
                    ),
                    {"consumer": "Ann Lee", "value": "1 Main St, Springfield", "attempts": None},
                )
        log.error("request failed", error=repr(failed.value), exc_info=failed.value)
    finally:
        await db.close()
    line = out.getvalue()
    assert "not-null constraint" in json.loads(line)["error"]  # the error itself is there
    assert "Ann Lee" not in line and "Main St" not in line
