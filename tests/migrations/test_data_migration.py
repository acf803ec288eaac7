"""The 2026-12-01 migrations keep every stored row: JSON components become numeric arrays (and back on
downgrade), outcomes keyed by event id become outcomes keyed by signal id (and back), and the bots'
counters start at the stored counts. SQLite and PostgreSQL, from an empty database migrated to the
revision before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from core.services import learning_data
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import make_engine, upgrade
from tests.conftest import scratch_pg_database

BEFORE = "8fcd2e47b2bb"
T0 = 1_767_225_600_000
SIGNALS: dict[str, tuple[str, dict[str, float]]] = {  # event_id -> (bot, components)
    "s1": ("alpha", {"ofi": 1.5, "mom": -0.25, 'ünï "q" \\ ,': 1e-300}),
    "s2": ("alpha", {"ofi": -2.0}),
    "s3": ("alpha", {"z": 0.5, "ofi": 1 / 3}),
    "s4": ("beta", {"ofi": 9.0}),
}
OUTCOMES = [  # (bot, signal event_id, horizon_s, status, ret, mark_ts, reason)
    ("alpha", "s1", 60, "resolved", 0.01, T0 + 60_000, None),
    ("alpha", "s2", 300, "gap", None, 0, "no_marks"),
    ("beta", "s4", 60, "resolved", -0.5, T0 + 61_000, None),
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no tables at all) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    async with scratch_pg_database() as url:
        yield url


async def _execute(url: str, statements: list[tuple[str, list[dict[str, Any]]]]) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, rows in statements:
                await conn.execute(text(sql), rows)
    finally:
        await engine.dispose()


async def _fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def _old_rows(url: str) -> None:
    json_param = "CAST(:c AS json)" if url.startswith("postgresql") else ":c"
    bots = [{"id": b, "n": b.title(), "cfg": "{}"} for b in ("alpha", "beta")]
    signals = [
        {"b": bot, "e": event_id, "ts": T0 + i * 1000, "c": orjson.dumps(comps).decode()}
        for i, (event_id, (bot, comps)) in enumerate(SIGNALS.items())
    ]
    outcomes = [dict(zip(("b", "e", "h", "st", "r", "m", "rs"), row, strict=True)) for row in OUTCOMES]
    config = "CAST(:cfg AS json)" if url.startswith("postgresql") else ":cfg"
    await _execute(
        url,
        [
            (
                f"INSERT INTO bots (id, name, config, created_at, current_version) VALUES (:id, :n, {config}, 0, 1)",
                bots,
            ),
            (
                "INSERT INTO signals (bot_id, event_id, ts, symbol, direction, price, conviction, components, "
                f"decision) VALUES (:b, :e, :ts, 'BTCUSDT', 'long', 100.0, 0.5, {json_param}, 'executed')",
                signals,
            ),
            (
                "INSERT INTO signal_outcomes (bot_id, signal_event_id, horizon_s, status, ret, mark_ts, reason) "
                "VALUES (:b, :e, :h, :st, :r, :m, :rs)",
                outcomes,
            ),
        ],
    )


async def test_upgrade_converts_components_and_outcomes_and_downgrade_restores_them(empty_url: str) -> None:
    await upgrade(empty_url, BEFORE)
    await _old_rows(empty_url)
    await upgrade(empty_url)

    counters = await _fetch(empty_url, "SELECT id, signal_count, resolved_count, gap_count FROM bots ORDER BY id")
    assert counters == [("alpha", 3, 1, 1), ("beta", 1, 1, 0)]
    names = await _fetch(empty_url, "SELECT bot_id, name FROM component_names ORDER BY bot_id, name")
    assert names == sorted({(bot, name) for bot, comps in SIGNALS.values() for name in comps})
    ctx = ServiceContext.create(Settings(database_url=empty_url, redis_url=None))  # type: ignore[arg-type]
    try:
        async with ctx.sessions() as session:
            window = learning_data.Window(T0, T0 + 10_000)
            alpha = (await learning_data.load_cycle_inputs(session, "alpha", window, [60, 300])).inputs
            beta = (await learning_data.load_cycle_inputs(session, "beta", window, [60, 300])).inputs
    finally:
        await ctx.close()
    for inputs in (alpha, beta):
        for row, event_id in enumerate(inputs.signals["event_id"]):
            loaded = inputs.components.iloc[row].dropna().to_dict()
            assert loaded == SIGNALS[event_id][1], event_id  # every score bit for bit
    assert list(alpha.components.columns) == sorted({n for b, c in SIGNALS.values() if b == "alpha" for n in c})
    got = {(o.signal_event_id, o.horizon_s, o.status, o.mark_ts, o.reason) for o in alpha.outcomes.itertuples()}
    assert got == {(e, h, st, m, rs) for b, e, h, st, _, m, rs in OUTCOMES if b == "alpha"}
    assert beta.outcomes["ret"].tolist() == [-0.5]

    await upgrade(empty_url, BEFORE, down=True)
    back = await _fetch(empty_url, "SELECT event_id, CAST(components AS text) FROM signals ORDER BY event_id")
    assert {e: orjson.loads(c) for e, c in back} == {e: comps for e, (_, comps) in SIGNALS.items()}
    restored = await _fetch(
        empty_url,
        "SELECT bot_id, signal_event_id, horizon_s, status, ret, mark_ts, reason FROM signal_outcomes "
        "ORDER BY bot_id, signal_event_id",
    )
    assert restored == OUTCOMES
