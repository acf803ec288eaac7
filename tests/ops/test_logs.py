"""Logging: a cycle logs its start and end with bot, cycle id, kind, duration, changes and version; JSON lines
carry those fields."""

from __future__ import annotations

import asyncio
import logging

import httpx
import orjson
import pytest

from core.logs import JsonFormatter
from tests.builders import create_bot, price, signal
from tests.conftest import ADMIN


async def test_a_cycle_logs_its_start_and_end(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edgeloop.cycles")
    bot = await create_bot(client)
    await client.post("/v1/bots/alpha/events", json={"events": [price(), signal()]}, headers=bot)
    queued = (await client.post("/v1/bots/alpha/cycles", json={"kind": "continuous"}, headers=ADMIN)).json()
    for _ in range(200):
        ends = [r for r in caplog.records if r.getMessage().startswith(f"cycle {queued['cycle_id']} end")]
        if ends:
            break
        await asyncio.sleep(0.05)
    starts = [r for r in caplog.records if r.getMessage().startswith(f"cycle {queued['cycle_id']} start")]
    assert len(starts) == 1 and len(ends) == 1
    end = ends[0]
    assert (end.bot, end.cycle_id, end.kind, end.status) == ("alpha", queued["cycle_id"], "continuous", "succeeded")  # type: ignore[attr-defined]
    assert end.duration_s >= 0 and end.changes >= 0  # type: ignore[attr-defined]
    assert hasattr(end, "version")
    line = orjson.loads(JsonFormatter().format(end))
    assert line["level"] == "info" and line["logger"] == "edgeloop.cycles"
    assert {"bot", "cycle_id", "kind", "duration_s", "changes", "version", "status"} <= set(line)


def test_json_lines_carry_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed %s", ("job",), None)
        import sys

        record.exc_info = sys.exc_info()
    line = orjson.loads(JsonFormatter().format(record))
    assert line["msg"] == "failed job" and "ValueError: boom" in line["exc"]
