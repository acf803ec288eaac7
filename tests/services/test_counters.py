"""The counts /health and /v1/status serve are kept at write time and always equal the stored rows:
duplicates are not counted, outcomes are counted once by status, whoever stores them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.services import bots, ingest, insight, resolve
from core.services.context import ServiceContext
from core.store import repos
from tests.builders import T0, price, signal, trade
from tests.workers.scenario import ADMIN_P

MIN = 60_000


async def _stored(ctx: ServiceContext) -> dict[str, int]:
    """COUNT(*) of what the bot has stored, the slow way."""
    counts = {}
    async with ctx.engine.connect() as conn:
        for name, table in (("signals", "signals"), ("trades", "trades"), ("prices", "price_marks")):
            counts[name] = (await conn.execute(text(f"SELECT count(*) FROM {table} WHERE bot_id = 'alpha'"))).scalar()
        by_status = await conn.execute(
            text("SELECT status, count(*) FROM signal_outcomes WHERE bot_id = 'alpha' GROUP BY status")
        )
        counts.update({f"outcomes_{status}": n for status, n in by_status.all()})
    return counts


async def test_counters_equal_the_stored_rows_through_duplicates_and_resolutions(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {"horizons": ["1m", "5m"]})
    marks = [price(ts=T0 + i * 10_000, price=100.0 + i) for i in range(40)]  # 0 to 6.5 min
    signals = [signal(ts=T0 + i * MIN) for i in range(4)] + [signal(ts=T0, symbol="NOMARKS")]
    first = [*marks[:20], *signals, trade(), trade()]
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", first)
    again = await ingest.ingest_events(ctx, ADMIN_P, "alpha", [*first[:10], *marks[20:]])  # 10 duplicates
    assert again.duplicates == 10

    await resolve.resolve_bot(ctx, "alpha")
    await resolve.resolve_bot(ctx, "alpha")  # nothing new: counts nothing twice
    stored = await _stored(ctx)
    assert stored["outcomes_resolved"] > 0 and stored["outcomes_gap"] > 0  # both kinds occur
    async with ctx.sessions() as session:
        assert (
            await repos.event_counts(session, "alpha")
            == {
                "signals": 5,
                "trades": 2,
                "prices": 40,
            }
            == {k: stored[k] for k in ("signals", "trades", "prices")}
        )
        assert await repos.outcome_status_counts(session, "alpha") == {
            "resolved": stored["outcomes_resolved"],
            "gap": stored["outcomes_gap"],
        }
    health = await insight.get_health(ctx, ADMIN_P, "alpha")
    assert health["counts"]["prices"] == 40 and health["counts"]["outcomes_resolved"] == stored["outcomes_resolved"]


async def test_outcomes_stored_in_parts_on_sqlite_are_all_stored_and_counted_once(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite stores a resolution in parts (one commit each, so ingest is not locked out); 3-row parts
    # make this small batch several parts, some mixing statuses. PostgreSQL writes it in one COPY.
    monkeypatch.setattr(resolve, "SQLITE_PART_ROWS", 3)
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {"horizons": ["1m", "5m"]})
    marks = [price(ts=T0 + i * 10_000, price=100.0 + i) for i in range(40)]
    signals = [signal(ts=T0 + i * MIN) for i in range(4)] + [signal(ts=T0, symbol="NOMARKS")]
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", [*marks, *signals])
    first = await resolve.resolve_bot(ctx, "alpha")
    assert (await resolve.resolve_bot(ctx, "alpha")).stored == 0
    stored = await _stored(ctx)
    assert first.stored == stored["outcomes_resolved"] + stored["outcomes_gap"] == 10 - first.pending
    async with ctx.sessions() as session:
        assert await repos.outcome_status_counts(session, "alpha") == {
            "resolved": stored["outcomes_resolved"],
            "gap": stored["outcomes_gap"],
        }
