"""Retention on known data (SQLite and PostgreSQL): what is inside the window stays byte for byte, what is
outside goes, the counters stay equal to the stored rows, and a cycle proposes the same before and after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from core.errors import EdgeloopError
from core.schemas.config import LearningConfig
from core.schemas.timefmt import ms_to_rfc3339
from core.services import bots, cycles, ingest, insight, resolve, retention, status
from core.services.context import ServiceContext
from core.store import lifecycle, repos
from tests.builders import T0
from tests.workers.scenario import ADMIN_P, FAST, learnable_events

MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000
# lookback 2h + horizon 1m + tolerance 60 s = 7,320 s is the floor; keep 3 h.
CONFIG = {**FAST, "lookback": "2h", "retention": "3h"}
TIME = {"signals": "ts", "trades": "ts", "price_marks": "ts", "signal_outcomes": "signal_ts"}


def old_events() -> list[dict[str, Any]]:
    """Two days of history before the learnable market (T0 .. T0 + 2 h): signals, marks and trades
    every 3 hours, crossing UTC day boundaries (several archive periods)."""
    events: list[dict[str, Any]] = []
    for i in range(16):
        ts = T0 - 2 * DAY + i * 3 * HOUR
        events.append(
            {
                "type": "signal",
                "event_id": f"old{i}",
                "ts": ts,
                "symbol": "ETHUSDT" if i % 2 else "BTCUSDT",
                "direction": "short",
                "price": 50.0,
                "conviction": 0.3,
                "components": {"ofi": -1.0, "old_only": 0.5},
                "decision": "blocked" if i % 3 == 0 else "executed",
                **({"blocked_by": "fee_gate"} if i % 3 == 0 else {}),
            }
        )
        for symbol in ("BTCUSDT", "ETHUSDT"):
            events.append({"type": "price", "ts": ts, "symbol": symbol, "price": 50.0})
            events.append({"type": "price", "ts": ts + MIN, "symbol": symbol, "price": 49.0 + i % 3})
        events.append(
            {
                "type": "trade",
                "event_id": f"oldtr{i}",
                "ts": ts + 2 * MIN,
                "opened_at": ts,
                "symbol": "BTCUSDT",
                "direction": "short",
                "entry_price": 50.0,
                "exit_price": 49.0,
                "quantity": 1.0,
                "pnl": 0.9,
                "fees": 0.1,
                "strategy": "old",
            }
        )
    return events


async def all_rows(ctx: ServiceContext) -> dict[str, set[tuple[Any, ...]]]:
    """Every stored row of the bot per raw-event table (all columns), the slow way."""
    out = {}
    async with ctx.engine.connect() as conn:
        for spec in lifecycle.TABLES:
            rows = (await conn.execute(text(f"SELECT * FROM {spec.name} WHERE bot_id = 'alpha'"))).mappings().all()
            out[spec.name] = {tuple((k, str(v)) for k, v in sorted(r.items())) for r in rows}
    return out


def time_of(row: tuple[Any, ...], table: str) -> int:
    return int(dict(row)[TIME[table]])


async def counters_match(ctx: ServiceContext) -> None:
    async with ctx.engine.connect() as conn:
        counted = {
            name: (await conn.execute(text(f"SELECT count(*) FROM {name} WHERE bot_id = 'alpha'"))).scalar()
            for name in ("signals", "trades", "price_marks", "signal_outcomes")
        }
    async with ctx.sessions() as session:
        events = await repos.event_counts(session, "alpha")
        outcomes = await repos.outcome_status_counts(session, "alpha")
    assert (events["signals"], events["trades"], events["prices"]) == (
        counted["signals"],
        counted["trades"],
        counted["price_marks"],
    )
    assert outcomes["resolved"] + outcomes["gap"] == counted["signal_outcomes"]


async def seeded(ctx: ServiceContext, **config: Any) -> int:
    """The bot with old history (resolved while it was recent, so old outcomes are stored too) and the
    learnable market; returns the cutoff the retention job will use."""
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {**CONFIG, **config})
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", old_events()[:60])
    await resolve.resolve_bot(ctx, "alpha")
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", old_events()[60:])
    await resolve.resolve_bot(ctx, "alpha")
    market = learnable_events()
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", market)
    watermark = max(e["ts"] for e in market)
    cutoff = watermark - 3 * HOUR
    # One mark exactly at the cutoff (kept) and one a millisecond before it (removed).
    edge = [
        {"type": "price", "ts": cutoff, "symbol": "XRPUSDT", "price": 1.0},
        {"type": "price", "ts": cutoff - 1, "symbol": "XRPUSDT", "price": 1.0},
    ]
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", edge)
    return cutoff


async def dry_run(ctx: ServiceContext) -> list[dict[str, Any]]:
    queued = await cycles.trigger_cycle(ctx, ADMIN_P, "alpha", "comprehensive", True)
    record = await cycles.execute_cycle(ctx, "alpha", queued.cycle_id)
    assert record is not None and record.status == "succeeded", record
    return [c.model_dump() for c in record.changes]


async def test_retention_removes_only_what_is_outside_the_window_and_changes_no_proposal(ctx: ServiceContext) -> None:
    cutoff = await seeded(ctx)
    before_changes = await dry_run(ctx)
    assert before_changes  # the market is learnable: the comparison below is not of two empty lists
    before = await all_rows(ctx)
    assert all(any(time_of(r, t) < cutoff for r in rows) for t, rows in before.items())  # old rows of every table
    async with ctx.sessions() as session:
        version_rows = (await session.execute(text("SELECT count(*) FROM param_versions"))).scalar()
        audit_rows = (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar()

    result = await retention.apply_retention(ctx, "alpha")

    assert result.cutoff_ms == cutoff
    after = await all_rows(ctx)
    for table, rows in before.items():
        inside = {r for r in rows if time_of(r, table) >= cutoff}
        assert after[table] == inside, table  # inside untouched, outside gone
        assert result.removed[table] == len(rows) - len(inside)
    assert {dict(r)["ts"] for r in after["price_marks"] if dict(r)["symbol"] == "XRPUSDT"} == {str(cutoff)}
    await counters_match(ctx)
    async with ctx.sessions() as session:  # learned state is kept
        assert (await session.execute(text("SELECT count(*) FROM param_versions"))).scalar() == version_rows
        assert (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar() == audit_rows
        assert (await session.execute(text("SELECT count(*) FROM cycles"))).scalar() == 1

    assert await dry_run(ctx) == before_changes
    again = await retention.apply_retention(ctx, "alpha")  # idempotent
    assert again.removed == {} and await all_rows(ctx) == after


async def test_deletes_run_in_short_transactions(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    cutoff = await seeded(ctx)
    monkeypatch.setattr(lifecycle, "CHUNK_ROWS", 7)
    commits: list[int] = []

    def committed(conn: Any) -> None:
        commits.append(1)

    event.listen(ctx.engine.sync_engine, "commit", committed)
    try:
        result = await retention.apply_retention(ctx, "alpha")
    finally:
        event.remove(ctx.engine.sync_engine, "commit", committed)
    removed = sum(result.removed.values())
    assert removed > 60 and result.cutoff_ms == cutoff
    # Each chunk of at most 7 rows committed on its own (+1 for recording the run).
    assert len(commits) >= -(-removed // 7) + 1
    await counters_match(ctx)


async def test_bot_without_events_records_a_run(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, None)
    ctx.clock = lambda: T0 + 5 * DAY
    result = await retention.apply_retention(ctx, "alpha")
    assert result.cutoff_ms is None and result.removed == {}
    health = await insight.get_health(ctx, ADMIN_P, "alpha")
    assert health["data"]["last_retention_run"] == "2026-01-06T00:00:00.000Z"
    with pytest.raises(EdgeloopError) as missing:
        await retention.apply_retention(ctx, "nobody")
    assert missing.value.code == "bot_not_found"


async def test_health_and_status_show_data_age_size_and_overdue_retention(ctx: ServiceContext) -> None:
    now = T0 + 10 * DAY
    ctx.clock = lambda: now
    cutoff = await seeded(ctx)
    health = await insight.get_health(ctx, ADMIN_P, "alpha")
    data = health["data"]
    assert data["oldest_event"] == "2025-12-30T00:00:00.000Z"  # T0 - 2 days, the first old signal
    assert data["oldest"]["price_marks"] == data["oldest_event"]
    assert data["rows"]["signals"] == 16 + 60 and data["rows"]["price_marks"] == 16 * 4 + 120 + 2
    assert data["retention"] == "3h" and data["retention_s"] == 3 * 3600 and data["last_retention_run"] is None
    codes = [p["code"] for p in health["problems"]]
    assert "retention_overdue" not in codes  # the bot was created just now: not two intervals yet

    now += 2 * ctx.settings.retention_every_s * 1000 + 1
    health = await insight.get_health(ctx, ADMIN_P, "alpha")
    overdue = [p for p in health["problems"] if p["code"] == "retention_overdue"]
    assert len(overdue) == 1 and health["level"] in ("warn", "error")
    assert overdue[0]["detail"]["oldest_event"] == "2025-12-30T00:00:00.000Z"

    await retention.apply_retention(ctx, "alpha")
    health = await insight.get_health(ctx, ADMIN_P, "alpha")
    assert "retention_overdue" not in [p["code"] for p in health["problems"]]
    assert health["data"]["oldest_event"] == ms_to_rfc3339(cutoff)  # the mark exactly at the cutoff
    assert health["data"]["retention_cutoff"] == ms_to_rfc3339(cutoff)
    summary = await status.get_status(ctx, ADMIN_P)
    (bot,) = summary.bots
    assert bot.data is not None and bot.data.rows == health["data"]["rows"]
    assert bot.data.last_retention_run == "2026-01-11T02:00:00.001Z"


def test_retention_default_is_derived_and_a_short_one_is_refused() -> None:
    config = LearningConfig()
    # 7 d lookback + 1 h horizon + 30 min tolerance, plus the one-day margin.
    assert config.retention_floor_seconds() == 7 * 86400 + 3600 + 1800
    assert config.retention_seconds() == 8 * 86400 + 3600 + 1800
    assert LearningConfig(horizons=["1m"], lookback="1h").retention_floor_seconds() == 3600 + 60 + 60
    assert LearningConfig(retention="9d").retention_seconds() == 9 * 86400


async def test_a_retention_shorter_than_a_cycle_reads_is_a_422_on_create_and_patch(ctx: ServiceContext) -> None:
    with pytest.raises(EdgeloopError) as short:
        await bots.create_bot(ctx, ADMIN_P, "alpha", None, {"retention": "7d"})
    assert short.value.code == "invalid_config" and short.value.errors[0].loc == "config.retention"
    assert "shorter than what a cycle reads" in short.value.errors[0].msg
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {"retention": "8d"})
    with pytest.raises(EdgeloopError) as longer_lookback:  # the floor moves with the lookback
        await bots.patch_config(ctx, ADMIN_P, "alpha", {"lookback": "8d"})
    assert longer_lookback.value.errors[0].loc == "config.retention"
    assert (await bots.patch_config(ctx, ADMIN_P, "alpha", {"lookback": "8d", "retention": None}))["retention"] is None
