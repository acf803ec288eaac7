"""The learning loader on SQLite and PostgreSQL: columnar reads give exactly the frames the stored events
imply (so both databases give the same frames), stored outcomes come in signal order, marks are read only
where a pending pair can use them without changing any outcome or the `no_price_marks` answer, and the
outcome write skips pairs already stored."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from core.learn.frames import SIGNAL_COLUMNS, TRADE_COLUMNS, CycleInputs
from core.learn.outcomes import resolve_outcomes, symbols_without_marks
from core.services import bots, ingest, learning_data, resolve
from core.services.context import ServiceContext
from core.services.learning_data import Window
from core.store import bulk, pgcopy, repos
from core.store.components import Components
from core.store.models import Signal
from core.store.outcome_store import OutcomeBatch
from tests.builders import T0, price, signal, trade
from tests.workers.scenario import ADMIN_P

HORIZONS = [60, 300]
CONFIG = {"horizons": ["1m", "5m"]}
MIN = 60_000
# Strings a CSV or COPY text stream must carry verbatim: separators, quotes, escapes, NULL look-alikes.
AWKWARD = ["a,b", 'say "hi"', "back\\slash", "line\nbreak\ttab", "ünïcödé €", "NaN", "\\N", "null", " pad "]


def _signals(escaped_key: bool) -> list[dict[str, Any]]:
    """Signals one second apart with every optional field present and absent, and mixed component sets."""
    events = []
    for i, s in enumerate(AWKWARD * 2):
        components: dict[str, float] = {"ofi": 1.0 / (i + 1), "mom": -0.5 * i, f"k{i % 3}": 5e-324 if i else -0.0}
        if escaped_key and i == 3:
            components['q"uote\\'] = 2.5  # JSON escapes in the stored text: PostgreSQL's fallback path
        events.append(
            signal(
                event_id=f"{i:02d}{s}",
                ts=T0 + i * 1000,
                symbol="ETHUSDT" if i % 2 else "btcusdt",
                price=[0.1, 1.7976931348623157e308, 123456.78901234567, 1 / 3][i % 4],
                conviction=i / 20,
                components=components,
                decision="blocked" if i % 3 == 0 else "executed",
                blocked_by=s if i % 3 == 0 else None,
                strategy=s if i % 2 else None,
                expected_edge_bps=None if i % 4 == 1 else -i / 7,
                regime=s if i % 5 == 0 else None,
            )
        )
    return events


def _trades() -> list[dict[str, Any]]:
    return [
        trade(
            event_id=f"t{i}{s}",
            ts=T0 + i * 1000 + 30_000,
            opened_at=T0 + i * 1000,
            strategy=s if i % 2 else None,
            conviction=None if i % 3 else 0.25,
            signal_event_id=f"{i:02d}{s}" if i % 2 else None,
            venue=s,
            regime=None,
            pnl=-1 / 3,
        )
        for i, s in enumerate(AWKWARD)
    ]


def _marks(symbol: str, start: int, end: int, step: int = 10_000) -> list[dict[str, Any]]:
    return [price(symbol=symbol, ts=ts, price=100.0 + (ts - T0) / 1e6) for ts in range(start, end, step)]


def _expected(events: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """The frame the events imply: the contract's dtypes, missing values as None (objects) or NaN (floats)."""
    rows = sorted(events, key=lambda e: (e["ts"], e["event_id"]))
    return pd.DataFrame({c: pd.Series([e.get(c) for e in rows], dtype=dtype) for c, dtype in columns.items()})


def _expected_components(events: list[dict[str, Any]]) -> pd.DataFrame:
    rows = sorted(events, key=lambda e: (e["ts"], e["event_id"]))
    names = sorted({name for e in rows for name in e["components"]})
    data = [[float(e["components"].get(n, math.nan)) for n in names] for e in rows]
    return pd.DataFrame(np.array(data, dtype=np.float64), columns=pd.Index(names, dtype=object))


async def _bot(ctx: ServiceContext, events: list[dict[str, Any]]) -> Window:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, CONFIG)
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", events)
    async with ctx.sessions() as session:
        bot = await repos.get_bot(session, "alpha")
        assert bot is not None and bot.watermark_ms is not None
        return Window.back_from(bot.watermark_ms, 7 * 86_400)


async def _load(ctx: ServiceContext, window: Window) -> CycleInputs:
    async with ctx.sessions() as session:
        return (await learning_data.load_cycle_inputs(session, "alpha", window, HORIZONS)).inputs


@pytest.mark.parametrize("escaped_key", [False, True])
async def test_loaded_frames_are_the_stored_events(ctx: ServiceContext, escaped_key: bool) -> None:
    signals, trades = _signals(escaped_key), _trades()
    window = await _bot(ctx, [*signals, *trades, *_marks("btcusdt", T0, T0 + 20 * MIN)])
    inputs = await _load(ctx, window)
    inputs.validate()
    pd.testing.assert_frame_equal(inputs.signals, _expected(signals, SIGNAL_COLUMNS), check_exact=True)
    pd.testing.assert_frame_equal(inputs.components, _expected_components(signals), check_exact=True)
    pd.testing.assert_frame_equal(inputs.trades, _expected(trades, TRADE_COLUMNS), check_exact=True)
    assert math.copysign(1.0, inputs.components["k0"].iloc[0]) == -1.0  # -0.0 survives the JSON round trip
    assert inputs.outcomes.empty and set(inputs.prices["symbol"]) == {"btcusdt"}


async def test_stored_outcomes_come_in_signal_order_with_their_stored_values(ctx: ServiceContext) -> None:
    signals = _signals(escaped_key=False)
    marks = [*_marks("btcusdt", T0, T0 + 30 * MIN), *_marks("ETHUSDT", T0, T0 + 3 * MIN)]
    window = await _bot(ctx, [*signals, *marks, price(symbol="btcusdt", ts=T0 + 60 * MIN, price=1.0)])
    stored = await resolve.resolve_bot(ctx, "alpha")
    assert stored.stored == 2 * len(signals) and stored.pending == 0
    inputs = await _load(ctx, window)
    async with ctx.sessions() as session:
        rows = await repos.outcome_rows(session, "alpha", window.since_ms, window.until_ms)
    expected = pd.DataFrame(rows, columns=list(repos.OUTCOME_READ))
    expected["ret"] = expected["ret"].astype(np.float64)
    expected["status"] = expected["status"].astype("str")
    expected["reason"] = expected["reason"].astype(object).where(expected["reason"].notna(), None)
    pd.testing.assert_frame_equal(inputs.outcomes, expected.astype({"horizon_s": np.int64}), check_exact=True)
    order = pd.Index(inputs.signals["event_id"]).get_indexer(inputs.outcomes["signal_event_id"])
    assert np.all(np.diff(order * 1000 + inputs.outcomes["horizon_s"].to_numpy()) > 0)  # (signal row, horizon)
    assert set(inputs.outcomes["reason"].dropna()) == {"missing_mark"}  # ETH's marks stop early
    assert len(inputs.prices) == 2  # nothing pending: one mark per symbol stands for "has marks"


async def test_marks_are_read_only_where_pending_pairs_can_use_them(ctx: ServiceContext) -> None:
    # btc: marks all along, b1 at 5m still pending when the job runs; eth: marks only at the start, so
    # its signal's pairs are gaps for a missing mark (not for "no marks"); sol: no marks at all.
    sig = [
        signal(event_id="b0", ts=T0, symbol="btc"),
        signal(event_id="b1", ts=T0 + 50 * MIN, symbol="btc"),
        signal(event_id="e0", ts=T0 + 20 * MIN, symbol="eth"),
        signal(event_id="s0", ts=T0 + 30 * MIN, symbol="sol"),
    ]
    marks = [*_marks("btc", T0, T0 + 53 * MIN, 30_000), *_marks("eth", T0, T0 + 2 * MIN, 30_000)]
    await _bot(ctx, [*sig, *marks])
    assert (await resolve.resolve_bot(ctx, "alpha")).pending == 1
    later = _marks("btc", T0 + 53 * MIN, T0 + 60 * MIN, 30_000)  # b1's 5m mark arrives after the job ran
    await ingest.ingest_events(ctx, ADMIN_P, "alpha", later)
    window = Window.back_from(later[-1]["ts"], 7 * 86_400)
    inputs = await _load(ctx, window)
    async with ctx.sessions() as session:  # the unnarrowed read: every mark of the window
        everything = await learning_data.load_marks(session, "alpha", inputs.signals, window, None)
    narrow = resolve_outcomes(inputs.signals, inputs.prices, HORIZONS, window.until_ms, inputs.outcomes)
    full = resolve_outcomes(inputs.signals, everything, HORIZONS, window.until_ms, inputs.outcomes)
    pd.testing.assert_frame_equal(narrow.outcomes, full.outcomes, check_exact=True)
    assert (narrow.pending, full.pending, len(narrow.outcomes)) == (0, 0, 1)
    # b1 at 5m can only use a mark in [ts + 5m, ts + 5m + 150 s]; eth's first mark stands for "has marks"
    loaded = inputs.prices.groupby("symbol")["ts"].agg(list).to_dict()
    assert loaded == {"btc": list(range(T0 + 55 * MIN, T0 + 57 * MIN + 30_001, 30_000)), "eth": [T0]}
    assert len(everything) == len(marks) + len(later)
    assert symbols_without_marks(inputs.signals, inputs.prices) == symbols_without_marks(inputs.signals, everything)
    assert symbols_without_marks(inputs.signals, inputs.prices) == {"sol": 1}
    reasons = inputs.outcomes.set_index(["signal_event_id", "horizon_s"])["reason"]
    assert reasons[("e0", 60)] == "missing_mark" and reasons[("s0", 60)] == "no_marks"


async def test_with_nothing_stored_the_window_marks_are_read_beside_the_signals(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    sig = [signal(event_id="b0", ts=T0, symbol="btc"), signal(event_id="s0", ts=T0 + 30 * MIN, symbol="sol")]
    sig.append(signal(event_id="e0", ts=T0 + 20 * MIN, symbol="eth"))
    marks = [*_marks("btc", T0, T0 + 53 * MIN, 30_000), *_marks("eth", T0, T0 + 2 * MIN, 30_000)]
    window = await _bot(ctx, [*sig, *marks])
    inputs = await _load(ctx, window)
    async with ctx.sessions() as session:
        everything = await learning_data.load_marks(session, "alpha", inputs.signals, window, None)
    if ctx.settings.database_url.startswith("postgresql"):  # the early read: every mark of the window
        pd.testing.assert_frame_equal(inputs.prices, everything, check_exact=True)
    got = resolve_outcomes(inputs.signals, inputs.prices, HORIZONS, window.until_ms)
    full = resolve_outcomes(inputs.signals, everything, HORIZONS, window.until_ms)
    pd.testing.assert_frame_equal(got.outcomes, full.outcomes, check_exact=True)

    # A signal whose symbol the early read did not know (stored between its reads): read the usual way.
    real = bulk.window_symbols

    async def missing_eth(*args: Any) -> list[str]:
        return [s for s in await real(*args) if s != "eth"]

    monkeypatch.setattr(bulk, "window_symbols", missing_eth)
    again = await _load(ctx, window)
    assert set(again.prices["symbol"]) == {"btc", "eth"}
    pd.testing.assert_frame_equal(
        resolve_outcomes(again.signals, again.prices, HORIZONS, window.until_ms).outcomes,
        full.outcomes,
        check_exact=True,
    )


async def test_the_resolution_job_reads_the_same_way(ctx: ServiceContext) -> None:
    window = await _bot(ctx, [*_signals(escaped_key=True), *_marks("btcusdt", T0, T0 + 30 * MIN)])
    first = await resolve.resolve_bot(ctx, "alpha")
    again = await resolve.resolve_bot(ctx, "alpha")
    assert first.stored == 2 * len(AWKWARD) * 2 and (again.stored, again.pending) == (0, 0)
    async with ctx.sessions() as session:
        loaded = await learning_data.load_resolution_inputs(session, "alpha", window)  # horizons from config
    inputs = loaded.inputs
    assert len(inputs.outcomes) == first.stored and len(inputs.prices) == 1  # nothing pending
    assert np.array_equal(inputs.outcome_rows, np.repeat(np.arange(len(inputs.signals)), 2))
    assert len(loaded.signal_ids) == len(inputs.signals) and len(set(loaded.signal_ids.tolist())) == len(inputs.signals)


async def _keys(ctx: ServiceContext, event_ids: list[str]) -> list[tuple[int, int]]:
    """(signals.id, ts) of the bot's signals ``event_ids``, in that order."""
    async with ctx.sessions() as session:
        stmt = select(Signal.event_id, Signal.id, Signal.ts).where(Signal.bot_id == "alpha")
        found = {e: (i, t) for e, i, t in (await session.execute(stmt)).all()}
    return [found[e] for e in event_ids]


def _batch(keys: list[tuple[int, int]], horizon: int = 60) -> OutcomeBatch:
    n = len(keys)
    return OutcomeBatch(
        bot_id="alpha",
        signal_ts=np.array([t for _, t in keys], dtype=np.int64),
        signal_id=np.array([i for i, _ in keys], dtype=np.int64),
        horizon_s=np.full(n, horizon, dtype=np.int64),
        status=np.array(["gap" if i % 2 else "resolved" for i in range(n)], dtype=object),
        ret=np.array([math.nan if i % 2 else i / 3 for i in range(n)], dtype=np.float64),
        mark_ts=np.array([0 if i % 2 else T0 + i for i in range(n)], dtype=np.int64),
        reason=np.array(["no_marks" if i % 2 else None for i in range(n)], dtype=object),
    )


async def test_outcome_write_skips_pairs_already_stored(ctx: ServiceContext) -> None:
    ids = [e["event_id"] for e in _signals(escaped_key=False)][:4]
    window = await _bot(ctx, _signals(escaped_key=False))
    keys = await _keys(ctx, ids)
    async with ctx.sessions.begin() as session:
        assert await repos.insert_outcomes(session, _batch(keys[:3])) == 3
    async with ctx.sessions.begin() as session:
        assert await repos.insert_outcomes(session, _batch(keys)) == 1  # only ids[3] is new
        assert await repos.insert_outcomes(session, _batch(keys, horizon=300)) == 4
        assert await repos.insert_outcomes(session, _batch([])) == 0
    async with ctx.sessions() as session:
        rows = await repos.outcome_rows(session, "alpha", window.since_ms, window.until_ms)
    assert [r[:2] for r in rows] == [(i, h) for i in ids for h in (60, 300)]
    assert rows[0][2:] == ("resolved", 0.0, T0, None) and rows[2][2:] == ("gap", None, 0, "no_marks")
    assert rows[4][3] == pytest.approx(2 / 3) and rows[4][3] == 2 / 3


async def test_concurrent_writers_of_overlapping_outcomes_store_each_pair_once(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, CONFIG)
    keys = [(i, T0 + i) for i in range(3_000)]
    first, second = _batch(keys[:2_000]), _batch(keys[1_000:])  # 1,000 pairs in both

    async def write(batch: OutcomeBatch) -> int:
        async with ctx.sessions.begin() as session:
            n = await repos.insert_outcomes(session, batch)
            await asyncio.sleep(0.2)  # hold the transaction open: the other writer runs meanwhile
            return n

    counts = await asyncio.gather(write(first), write(second))
    assert sum(counts) == len(keys) and sorted(counts) == [1_000, 2_000]
    async with ctx.sessions() as session:
        stored = await bulk.read_outcomes(session, "alpha", T0, T0 + len(keys))
    assert sorted(stored["signal_id"].tolist()) == [i for i, _ in keys]
    async with ctx.sessions() as session:  # the bot's counters saw each pair once, by its stored status
        counted = await repos.outcome_status_counts(session, "alpha")
    assert counted == {status: int((stored["status"] == status).sum()) for status in ("resolved", "gap")}


async def test_a_big_batch_of_mixed_outcomes_is_stored_whole_and_read_back_exactly(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, ADMIN_P, "alpha", None, CONFIG)
    keys = [(i, T0 + i) for i in range(12_000)]
    batch = _batch(keys)
    reason = batch.reason.copy()
    reason[::3] = "missing_mark"  # three kinds of row: resolved, gap/no_marks, gap/missing_mark
    batch = OutcomeBatch(**{**batch.__dict__, "reason": reason, "status": np.where(reason == None, "resolved", "gap")})  # noqa: E711
    batch.ret[reason != None] = math.nan  # noqa: E711
    async with ctx.sessions.begin() as session:
        assert await repos.insert_outcomes(session, batch) == len(keys)
    async with ctx.sessions() as session:
        stored = await bulk.read_outcomes(session, "alpha", T0, T0 + len(keys))
    order = np.argsort(stored["signal_id"])
    assert np.array_equal(stored["signal_id"][order], batch.signal_id)
    assert stored["status"][order].tolist() == batch.status.tolist()
    assert stored["reason"][order].tolist() == batch.reason.tolist()
    np.testing.assert_array_equal(stored["ret"][order], batch.ret)  # NaN where NULL, the rest bit for bit
    assert np.array_equal(stored["mark_ts"][order], batch.mark_ts)


def test_stored_outcomes_are_put_in_signal_order_by_runs_or_one_by_one() -> None:
    rng = np.random.default_rng(7)
    signal_ids = rng.permutation(np.arange(10, 40, dtype=np.int64))
    ids = np.repeat(rng.permutation(np.append(signal_ids, 999)), 3)  # grouped; 999 is not a loaded signal
    horizons = np.tile(np.array([60, 300, 900]), ids.size // 3)
    order, rows = learning_data.signal_order(signal_ids, ids, horizons)
    assert np.array_equal(signal_ids[rows], ids[order]) and 999 not in ids[order]
    assert np.all(np.diff(rows * 10_000 + horizons[order]) > 0)
    for permutation in (rng.permutation(ids.size), np.arange(ids.size)[::-1]):  # scattered; grouped, horizons down
        order2, rows2 = learning_data.signal_order(signal_ids, ids[permutation], horizons[permutation])
        assert np.array_equal(rows2, rows) and np.array_equal(horizons[permutation][order2], horizons[order])


def test_components_follow_the_signal_ids_whatever_order_they_came_in() -> None:
    comps = Components(np.array([3, 1, 2], dtype=np.int64), ["a", "b"], np.array([[3.0, 0], [1, 0], [2, 0]]))
    frame = learning_data.components_frame(comps, np.array([1, 2, 3, 4], dtype=np.int64))
    assert frame["a"].tolist()[:3] == [1.0, 2.0, 3.0] and frame.iloc[3].isna().all()


async def test_an_outcome_status_outside_the_known_ones_still_loads(ctx: ServiceContext) -> None:
    window = await _bot(ctx, _signals(escaped_key=False))
    odd = _batch(await _keys(ctx, [e["event_id"] for e in _signals(escaped_key=False)][:2]))
    odd = OutcomeBatch(**{**odd.__dict__, "status": np.array(["resolved", "later"], dtype=object)})
    async with ctx.sessions.begin() as session:
        assert await repos.insert_outcomes(session, odd) == 2
    inputs = await _load(ctx, window)
    assert inputs.outcomes["status"].tolist() == ["resolved", "later"]
    assert inputs.outcomes["reason"].tolist() == [None, "no_marks"]


def test_a_lost_connection_during_a_copy_is_reported_as_sqlalchemy_reports_it() -> None:
    class ServerError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    lost = pgcopy.translated("COPY ...", ServerError("08006"))
    assert isinstance(lost, sa_exc.OperationalError) and lost.connection_invalidated
    busy = pgcopy.translated("COPY ...", ServerError("53300"))
    assert isinstance(busy, sa_exc.OperationalError) and not busy.connection_invalidated
    bug = pgcopy.translated("COPY ...", ServerError("42601"))
    assert type(bug) is sa_exc.DatabaseError
