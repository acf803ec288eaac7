"""Test data builders with keyword defaults: one call, one valid event; override what the test is about."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.conftest import ADMIN

_ids = itertools.count(1)
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, epoch ms


def signal(**kw: Any) -> dict[str, Any]:
    n = next(_ids)
    event = {
        "type": "signal",
        "event_id": f"sig-{n}",
        "ts": T0 + n * 1000,
        "symbol": "BTCUSDT",
        "direction": "long",
        "price": 100.0,
        "conviction": 0.6,
        "components": {"ofi": 1.0, "momentum": -0.5},
        "decision": "executed",
    }
    event.update(kw)
    return event


def trade(**kw: Any) -> dict[str, Any]:
    n = next(_ids)
    event = {
        "type": "trade",
        "event_id": f"tr-{n}",
        "ts": T0 + n * 1000 + 60_000,
        "opened_at": T0 + n * 1000,
        "symbol": "BTCUSDT",
        "direction": "long",
        "entry_price": 100.0,
        "exit_price": 101.0,
        "quantity": 1.0,
        "pnl": 0.9,
        "fees": 0.1,
    }
    event.update(kw)
    return event


def price(**kw: Any) -> dict[str, Any]:
    n = next(_ids)
    event = {"type": "price", "ts": T0 + n * 1000, "symbol": "BTCUSDT", "price": 100.0}
    event.update(kw)
    return event


def mixed_batch(n: int) -> list[dict[str, Any]]:
    builders = (signal, trade, price)
    return [builders[i % 3]() for i in range(n)]


async def create_bot(http: httpx.AsyncClient, bot_id: str = "alpha", **body: Any) -> dict[str, str]:
    """Create a bot as admin; returns the bot's auth headers."""
    response = await http.post("/v1/bots", json={"id": bot_id, **body}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['api_key']}"}


async def row_counts(database_url: str) -> dict[str, int]:
    """Rows per event table, read through a separate engine (what a later request would see)."""
    from sqlalchemy import func, select

    from core.store.db import make_engine
    from core.store.models import PriceMark, Signal, Trade

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                name: int((await conn.execute(select(func.count()).select_from(model))).scalar_one())
                for name, model in (("signals", Signal), ("trades", Trade), ("prices", PriceMark))
            }
    finally:
        await engine.dispose()
