"""A market where following the `ofi` component pays, so a cycle has something to learn."""

from __future__ import annotations

from typing import Any

from core.services import bots, ingest
from core.services.auth import Principal
from core.services.context import ServiceContext
from tests.builders import T0

ADMIN_P = Principal("admin_token", "admin")
# Small thresholds so 60 signals are enough to move a weight.
FAST = {"horizons": ["1m"], "min_outcomes": 10, "min_t": 1.0}


def learnable_events(n: int = 60, prefix: str = "s") -> list[dict[str, Any]]:
    """n signals 2 minutes apart; 60 s later the price is up 1% (down 0.4% for every fifth)."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        ts = T0 + i * 120_000
        ret = -0.004 if i % 5 == 0 else 0.01
        events.append(
            {
                "type": "signal",
                "event_id": f"{prefix}{i}",
                "ts": ts,
                "symbol": "BTCUSDT",
                "direction": "long",
                "price": 100.0,
                "conviction": 0.6,
                "components": {"ofi": 1.0},
                "decision": "executed",
            }
        )
        events.append({"type": "price", "ts": ts, "symbol": "BTCUSDT", "price": 100.0})
        events.append({"type": "price", "ts": ts + 60_000, "symbol": "BTCUSDT", "price": 100.0 * (1 + ret)})
    return events


async def learnable_bot(ctx: ServiceContext, bot_id: str = "alpha", **config: Any) -> None:
    """A bot with FAST config (plus ``config``) and the learnable events."""
    await bots.create_bot(ctx, ADMIN_P, bot_id, None, {**FAST, **config})
    await ingest.ingest_events(ctx, ADMIN_P, bot_id, learnable_events())
