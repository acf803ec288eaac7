"""Benchmark of the learning engine in memory.

    python bench/cycle.py [--signals N] [--components C] [--symbols S] [--marks M] [--trades T]

Defaults: 1,000,000 signals, 20 components, 50 symbols, 5 horizons, 10,000,000 price marks,
100,000 trades over 7 days. Prints wall time and peak RSS for
 (a) outcome resolution vs a bare numpy baseline (one sort + one searchsorted per horizon of the
     same arrays) and the ratio;
 (b) a comprehensive cycle vs a DuckDB group-by of the same per component x horizon stats
     (n, mean, sd of sign(score) * ret) and the ratio;
 scaling: the comprehensive cycle incl. resolution at 1/10 of the size vs full size (time ratio of the
     best of three runs each).
The allocator is set as a worker sets it (``workers/allocator.py``; ``--glibc-defaults`` to compare).
Part (c) of the issue (end to end through PostgreSQL) is bench/cycle_pg.py.
``build_market`` is the reusable hook (the storage team's end-to-end PostgreSQL bench loads it).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.learn.cycle import run_cycle
from core.learn.frames import CycleInputs, empty_outcomes
from core.learn.outcomes import Resolution, resolve_outcomes, tolerance_ms
from core.learn.proposal import Proposal
from core.schemas.config import LearningConfig
from core.schemas.params import default_sections
from core.settings import Settings
from workers.allocator import keep_freed_memory

T0 = 1_767_225_600_000
DAY_MS = 86_400_000


def build_market(
    n_signals: int,
    *,
    n_components: int = 20,
    n_symbols: int = 50,
    n_marks: int = 10_000_000,
    n_trades: int = 100_000,
    days: int = 7,
    seed: int = 0,
) -> CycleInputs:
    """A synthetic bot: random-walk marks per symbol, signals with components (30% absent), trades.

    now (the watermark) = the last mark's ts: ``int(inputs.prices["ts"].max())``.
    """
    rng = np.random.default_rng(seed)
    span = days * DAY_MS + 2 * 3_600_000
    per_symbol = max(n_marks // n_symbols, 2)
    step = span // per_symbol
    symbols = np.array([f"SYM{i:03d}USDT" for i in range(n_symbols)])
    log_steps = rng.normal(0.0, 0.0004, size=(n_symbols, per_symbol)).astype(np.float64)
    grid = 100.0 * np.exp(np.cumsum(log_steps, axis=1))
    mark_ts = T0 + np.arange(per_symbol, dtype=np.int64) * step
    prices = pd.DataFrame(
        {
            "symbol": pd.array(np.repeat(symbols, per_symbol), dtype="str"),
            "ts": np.tile(mark_ts, n_symbols),
            "price": grid.ravel(),
        }
    )
    sym_i = rng.integers(0, n_symbols, size=n_signals)
    slot = np.sort(rng.integers(0, int(days * DAY_MS // step), size=n_signals))
    # In time order, as storage hands signals to a cycle (sorting only reorders within a slot).
    ts = np.sort(T0 + slot.astype(np.int64) * step + rng.integers(0, step, size=n_signals))
    conviction = rng.random(n_signals)
    blocked = rng.random(n_signals) < 0.2
    gates = np.array(["conviction_gate", "fee_gate", "blocked_combo", "correlation_throttle"], dtype=object)
    ids = pd.array(("s" + pd.Series(np.arange(n_signals)).astype(str)).to_numpy(), dtype="str")
    signals = pd.DataFrame(
        {
            "event_id": ids,
            "ts": ts,
            "symbol": pd.array(symbols[sym_i], dtype="str"),
            "direction": pd.array(np.where(rng.random(n_signals) < 0.5, "long", "short"), dtype="str"),
            "price": grid[sym_i, slot],
            "conviction": conviction,
            "decision": pd.array(np.where(blocked, "blocked", "executed"), dtype="str"),
            "blocked_by": np.where(blocked, gates[rng.integers(0, 4, size=n_signals)], None).astype(object),
            "strategy": np.array(["momo", "revert", "carry"], dtype=object)[rng.integers(0, 3, size=n_signals)],
            "expected_edge_bps": rng.uniform(0, 20, size=n_signals),
            "regime": np.full(n_signals, None, dtype=object),
        }
    )
    values = rng.normal(size=(n_signals, n_components))
    values[rng.random((n_signals, n_components)) < 0.3] = np.nan
    components = pd.DataFrame(values, columns=[f"comp{i:02d}" for i in range(n_components)])
    executed = np.flatnonzero(~blocked)
    link = executed[rng.integers(0, executed.size, size=n_trades)]
    entry = grid[sym_i[link], slot[link]]
    ret = rng.normal(0.0, 0.003, size=n_trades)
    qty = 1000.0 / entry
    trades = pd.DataFrame(
        {
            "event_id": pd.array(("t" + pd.Series(np.arange(n_trades)).astype(str)).to_numpy(), dtype="str"),
            "symbol": signals["symbol"].to_numpy()[link],
            "direction": signals["direction"].to_numpy()[link],
            "opened_at": ts[link],
            "ts": ts[link] + 600_000,
            "entry_price": entry,
            "exit_price": entry * (1 + ret),
            "quantity": qty,
            "pnl": ret * 1000.0 - 0.4,
            "fees": np.full(n_trades, 0.4),
            "strategy": signals["strategy"].to_numpy()[link],
            "conviction": conviction[link],
            "signal_event_id": signals["event_id"].to_numpy(dtype=object)[link],
            "venue": np.full(n_trades, None, dtype=object),
            "regime": np.full(n_trades, None, dtype=object),
        }
    )
    trades["symbol"] = trades["symbol"].astype("str")
    trades["direction"] = trades["direction"].astype("str")
    return CycleInputs(signals=signals, components=components, trades=trades, prices=prices, outcomes=empty_outcomes())


def storage_order(res: Resolution) -> pd.DataFrame:
    """Resolved outcomes in the order storage hands them to a cycle: by signal (its row), then horizon."""
    order = np.lexsort((res.outcomes["horizon_s"].to_numpy(), res.rows))
    return res.outcomes.take(order).reset_index(drop=True)


def add_market_args(ap: argparse.ArgumentParser) -> None:
    """The market-size options of ``build_market`` (shared by bench/cycle_pg.py)."""
    ap.add_argument("--signals", type=int, default=1_000_000)
    ap.add_argument("--components", type=int, default=20)
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--marks", type=int, default=None, help="default: 10 x signals")
    ap.add_argument("--trades", type=int, default=None, help="default: signals / 10")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def numpy_baseline(inputs: CycleInputs, horizons: list[int]) -> int:
    """The floor: pre-coded symbols, one sort of the marks' (symbol, ts) key, one sort of the signals'
    key (adding h keeps it sorted), one searchsorted of sorted needles per horizon, window check.

    No frames, no output. Sorting the needles is what any fair implementation does: searchsorted
    of 1M unsorted needles into 10M keys is cache-bound and several times slower than the sorts.
    """
    codes, _ = pd.factorize(pd.concat([inputs.signals["symbol"], inputs.prices["symbol"]], ignore_index=True))
    n = len(inputs.signals)
    sig_code, mark_code = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    t0 = time.perf_counter()
    sig_ts = inputs.signals["ts"].to_numpy()
    mark_ts = inputs.prices["ts"].to_numpy()
    base = int(min(sig_ts.min(), mark_ts.min()))
    span = int(max(sig_ts.max() + 2 * max(horizons) * 1000 + 60_000, mark_ts.max())) - base + 1
    key = mark_code * span + (mark_ts - base)
    order = np.argsort(key)
    key = key[order]
    needles = np.sort(sig_code * span + (sig_ts - base))
    found = 0
    for h in horizons:
        target = needles + h * 1000
        idx = np.minimum(np.searchsorted(key, target), key.size - 1)
        found += int((key[idx] <= target + tolerance_ms(h)).sum())
    return int((time.perf_counter() - t0) * 1000) if found >= 0 else 0


def duckdb_baseline(inputs: CycleInputs, outcomes: pd.DataFrame, horizons: list[int]) -> float:
    import duckdb

    wide = outcomes[outcomes["status"] == "resolved"].pivot(index="signal_event_id", columns="horizon_s", values="ret")
    frame = inputs.components.copy()
    rows = pd.Index(wide.index).get_indexer(pd.Index(inputs.signals["event_id"]))
    for h in horizons:
        col = wide[h].to_numpy()[rows]
        frame[f"r{h}"] = np.where(rows >= 0, col, np.nan)
    exprs = []
    for c in inputs.components.columns:
        for h in horizons:
            x = f"sign({c}) * r{h}"
            exprs += [f"count({x})", f"avg({x})", f"stddev_samp({x})"]
    con = duckdb.connect()
    con.register("f", frame)
    t0 = time.perf_counter()
    con.execute(f"select {', '.join(exprs)} from f").fetchall()
    return time.perf_counter() - t0


REPEATS = 3  # the scaling figures are the best of this many runs: one run of 0.3 s is at the noise's mercy


def fmt_runs(runs: list[float]) -> str:
    return ", ".join(f"{r:.2f}" for r in runs)


def timed_cycle(inputs: CycleInputs, config: LearningConfig, now: int) -> tuple[float, Proposal]:
    t0 = time.perf_counter()
    p = run_cycle(inputs, default_sections(config), config, "comprehensive", now)
    return time.perf_counter() - t0, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_market_args(ap)
    ap.add_argument(
        "--glibc-defaults", action="store_true", help="leave the allocator as glibc sets it (not as a worker does)"
    )
    args = ap.parse_args()
    tuned = not args.glibc_defaults and keep_freed_memory(Settings().keep_freed_memory_mb)
    print(f"allocator: {'as a worker sets it (workers/allocator.py)' if tuned else 'glibc defaults'}")
    n = args.signals
    marks = args.marks or 10 * n
    trades = args.trades or max(n // 10, 1)
    config = LearningConfig()
    horizons = config.horizon_seconds()
    print(f"signals={n:,} components={args.components} symbols={args.symbols} marks={marks:,} trades={trades:,}")

    t0 = time.perf_counter()
    inputs = build_market(n, n_components=args.components, n_symbols=args.symbols, n_marks=marks, n_trades=trades)
    now = int(inputs.prices["ts"].max())
    print(f"build: {time.perf_counter() - t0:.2f} s, peak RSS {peak_rss_mb():.0f} MB")

    t0 = time.perf_counter()
    res = resolve_outcomes(inputs.signals, inputs.prices, horizons, now)
    resolve_s = time.perf_counter() - t0
    baseline_s = numpy_baseline(inputs, horizons) / 1000.0
    resolved = int((res.outcomes["status"] == "resolved").sum())
    print(
        f"(a) resolve_outcomes: {resolve_s:.2f} s for {len(res.outcomes):,} outcomes ({resolved:,} resolved, "
        f"{res.pending:,} pending); numpy baseline {baseline_s:.2f} s; ratio {resolve_s / max(baseline_s, 1e-9):.1f}x "
        "(target <= 3x); "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )

    stored = replace(inputs, outcomes=storage_order(res))
    cycle_s, proposal = timed_cycle(stored, config, now)
    duck_s = duckdb_baseline(inputs, res.outcomes, horizons)
    print(
        f"(b) comprehensive cycle (outcomes stored): {cycle_s:.2f} s, {len(proposal.changes)} changes; "
        f"(target <= 5 s); duckdb per-component stats {duck_s:.2f} s; ratio {cycle_s / max(duck_s, 1e-9):.1f}x; "
        f"peak RSS {peak_rss_mb():.0f} MB (target <= 3072 MB)"
    )
    cold_runs = [timed_cycle(inputs, config, now)[0] for _ in range(REPEATS)]
    cold_s = min(cold_runs)
    print(
        f"    comprehensive cycle incl. resolution: {cold_s:.2f} s (best of {fmt_runs(cold_runs)}); "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )

    small = build_market(
        n // 10, n_components=args.components, n_symbols=args.symbols, n_marks=marks // 10, n_trades=trades // 10
    )
    small_now = int(small.prices["ts"].max())
    small_runs = [timed_cycle(small, config, small_now)[0] for _ in range(REPEATS)]
    small_s = min(small_runs)
    print(
        f"scaling: cycle incl. resolution at {n // 10:,} signals {small_s:.2f} s (best of {fmt_runs(small_runs)}) "
        f"vs {n:,} signals {cold_s:.2f} s: time ratio {cold_s / max(small_s, 1e-9):.1f}x for 10x the data "
        "(target <= 12x)"
    )


if __name__ == "__main__":
    main()
