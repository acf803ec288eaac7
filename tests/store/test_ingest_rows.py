"""Stored events are exactly what was validated: every float bit for bit, strings verbatim, and each
signal's components object as its numeric arrays (ids into `component_names`, scores) in the sent order."""

from __future__ import annotations

import math
from typing import Any

import orjson
from sqlalchemy import text

from core.services import bots, ingest
from core.services.context import ServiceContext
from tests.builders import T0, price, signal, trade
from tests.workers.scenario import ADMIN_P

_FLOATS = [0.1, 1e-300, 5e-324, 1.7976931348623157e308, 2.0**53 + 2, 123456.78901234567, 1 / 3, 7.0]
_TEXTS = ['quote " back \\ slash', "line\nbreak\ttab", "ctrl \u0001 del \u007f", "ünïcödé €", "emoji 🚀", "x" * 128]


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i, (x, s) in enumerate(zip(_FLOATS, _TEXTS * 2, strict=False)):
        events.append(
            signal(
                event_id=f"s{i}-{s}"[:128],
                price=x,
                conviction=min(x, 1.0),
                components={s: x, "neg": -x, "z": -0.0, "int": 3},
                strategy=s,
                expected_edge_bps=-x,
                decision="blocked",
                blocked_by=s,
            )
        )
        events.append(trade(event_id=f"t{i}", entry_price=x, exit_price=x, quantity=x, pnl=-0.0, fees=x, venue=s))
        events.append(price(ts=T0 + i, symbol=s[:64], price=x, event_id=s))
    events.append(signal(event_id="minimal"))  # optional fields absent -> NULL
    return events


def _same(stored: Any, sent: Any, *, signed_zero: bool) -> bool:
    if isinstance(sent, float):
        sign_ok = not signed_zero or math.copysign(1, stored) == math.copysign(1, sent)
        return isinstance(stored, float) and stored == sent and sign_ok
    return bool(stored == sent)


async def _rows(ctx: ServiceContext, table: str, columns: list[str], key: str) -> dict[str, dict[str, Any]]:
    async with ctx.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
        return {row[key]: dict(row) for row in result.mappings()}


async def test_stored_rows_equal_the_validated_events(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    events = _events()
    expected = [dict(ev) for ev in ingest.validate_batch(events, ctx.clock(), 10_000)]
    result = await ingest.ingest_events(ctx, ADMIN_P, "alpha", events)
    assert (result.accepted, result.duplicates) == (len(events), 0)

    postgres = ctx.engine.dialect.name == "postgresql"
    stored = {
        "signal": await _rows(ctx, "signals", ["*"], "event_id"),
        "trade": await _rows(ctx, "trades", ["*"], "event_id"),
        "price": await _rows(ctx, "price_marks", ["*"], "ts"),
    }
    names = {row["id"]: row["name"] for row in (await _rows(ctx, "component_names", ["*"], "id")).values()}
    assert len(names) == len({k for ev in expected if ev["type"] == "signal" for k in ev["components"]})
    for ev in expected:
        row = stored[ev["type"]][ev["ts"] if ev["type"] == "price" else ev["event_id"]]
        assert row["bot_id"] == "alpha"
        for column, sent in ev.items():
            if column == "type":
                continue
            if column == "components":  # JSON lists on SQLite, arrays on PostgreSQL
                ids, values = (
                    orjson.loads(v) if isinstance(v, str) else v
                    for v in (row["component_ids"], row["component_values"])
                )
                assert [names[i] for i in ids] == list(sent)
                for got, score in zip(values, sent.values(), strict=True):
                    assert _same(got, score, signed_zero=postgres), (column, got, score)
                continue
            got = row[column]
            assert _same(got, sent, signed_zero=postgres), (column, got, sent)  # SQLite stores -0.0 as 0
