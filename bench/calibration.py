"""Calibration of the learners on simulated bots trading real prices (issue #10).

Each bot: real EURUSD hourly closes (``backtesting.test.EURUSD``, weekend gaps closed) bridged to
minute marks by a Brownian bridge pinned at the real closes, 2% of minutes missing, marks jittered by
0-5 s; signals arriving as a Poisson process (one per ``SIGNAL_GAP_S`` on average) with random
directions; components:
- four pure-noise kinds: ``iid`` (normal), ``sparse`` (half zeros, Student t3), ``persist_1h`` and
  ``persist_1d`` (Gaussian AR processes in event time with a 1 h / 1 d half-life);
- planted edges ``edge08`` / ``edge05``: correlation 0.08 / 0.05 with the signal's next-hour return
  (the 1h outcome's return).
Then 5 continuous cycles 12 h apart after 7 days of history, with the default config, each on the
window the service would load (lookback back from the watermark), carrying the document, the stored
outcomes and the evidence clocks (``facts["evidence"]``) forward as the service does. The pure
engine ``core.learn.cycle.run_cycle`` is called directly: no database.

Printed: the share of bots with any noise weight moved within 5 cycles (target <= 2%), per noise kind
and horizon P(|t| >= 3) of the per-test statistic and E[t^2] (target <= 0.5%), the power on the two
edges (share of bots whose edge weight rose within 5 cycles; targets >= 70% at 0.08, >= 35% at 0.05),
with the seeds. ``--compare`` also prints the per-test calibration of alternative methods on the same
data (the old Newey-West Bartlett t at lag ceil(h / median spacing); sign vs rank vs z-score
weighting), the measurement behind the choice in core/learn/README.md.

Reuse (e.g. for trade learners): ``simulated_bot(seed)`` builds a bot's full ``CycleInputs`` on real
prices (``SimBot``; add trades with ``SimBot.with_trades``), ``run_cycles(bot, config)`` runs the
5 cycles as the service would and returns the proposals.

Run: ``.venv/bin/python bench/calibration.py [--bots 400] [--seed 1000] [--workers 2] [--compare]``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import pickle
import sys
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.frames import CycleInputs, empty_outcomes, empty_trades
from core.learn.proposal import Proposal
from core.learn.significance import mean_test
from core.learn.weights import component_stats, test_weights
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections, default_sections
from tests.learn.old_t import lag_for, spacing_of, summarize  # the pre-#10 baseline

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the bot's first hour
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
SIGNAL_GAP_S = 120.0
MISSING = 0.02
JITTER_MS = 5_000
HISTORY_H = 7 * 24
CYCLES = 5
CYCLE_EVERY_H = 12
NOISE = ("iid", "sparse", "persist_1h", "persist_1d")
EDGES = {"edge08": 0.08, "edge05": 0.05}
SYMBOL = "EURUSD"


@cache
def eurusd_log_closes() -> np.ndarray:
    """Log hourly closes of the real EURUSD bars, as consecutive hours (weekend gaps closed)."""
    from backtesting.test import EURUSD

    return np.log(EURUSD["Close"].to_numpy(dtype=np.float64))


@dataclass(frozen=True, eq=False)
class SimBot:
    """A simulated bot: its full inputs (every event up to the last cycle), the cycles' watermarks, the
    full minute path (``path_ts``/``path_price``, before missing minutes and jitter) and what was planted
    (component -> rho; 0 for noise)."""

    seed: int
    inputs: CycleInputs
    cycle_now_ms: tuple[int, ...]
    path_ts: np.ndarray
    path_price: np.ndarray
    planted: dict[str, float]

    def with_trades(self, trades: pd.DataFrame) -> SimBot:
        """The same bot with a trades frame (frames.py columns)."""
        return replace(self, inputs=replace(self.inputs, trades=trades))


def _ar_process(rng: np.random.Generator, ts_ms: np.ndarray, half_life_ms: float) -> np.ndarray:
    """A stationary Gaussian AR(1) in event time: corr(s_i, s_j) = 0.5 ** (|t_i - t_j| / half-life)."""
    out = np.empty(ts_ms.size)
    gaps = np.diff(ts_ms, prepend=ts_ms[0]).astype(np.float64)
    a = 0.5 ** (gaps / half_life_ms)
    e = rng.normal(size=ts_ms.size)
    prev = e[0]
    out[0] = prev
    for i in range(1, ts_ms.size):  # a few thousand signals: a loop is fine
        prev = a[i] * prev + math.sqrt(1.0 - a[i] * a[i]) * e[i]
        out[i] = prev
    return out


def simulated_bot(
    seed: int,
    *,
    edges: dict[str, float] | None = None,
    noise: tuple[str, ...] = NOISE,
    signal_gap_s: float = SIGNAL_GAP_S,
    history_h: int = HISTORY_H,
    cycles: int = CYCLES,
    cycle_every_h: int = CYCLE_EVERY_H,
) -> SimBot:
    """Build one bot's inputs on a random stretch of real EURUSD prices (see the module docstring)."""
    rng = np.random.default_rng(seed)
    edges = dict(EDGES if edges is None else edges)
    closes = eurusd_log_closes()
    span_h = history_h + (cycles - 1) * cycle_every_h + 3
    first = int(rng.integers(0, closes.size - span_h - 1))
    hourly = closes[first : first + span_h + 1]
    sigma_m = float(np.std(np.diff(closes))) / math.sqrt(60.0)
    # Brownian bridge per hour, pinned at the real closes.
    steps = rng.normal(0.0, sigma_m, size=(span_h, 60))
    walk = np.cumsum(steps, axis=1)
    frac = np.arange(1, 61) / 60.0
    bridge = walk - frac * walk[:, -1:]
    log_path = hourly[:-1, None] + frac * np.diff(hourly)[:, None] + bridge
    path = np.exp(np.r_[hourly[0], log_path.ravel()])
    path_ts = T0 + np.arange(path.size, dtype=np.int64) * MINUTE_MS
    keep = rng.random(path.size) >= MISSING
    mark_ts = path_ts[keep] + rng.integers(0, JITTER_MS, size=int(keep.sum()))
    mark_price = path[keep]
    prices = pd.DataFrame(
        {"symbol": pd.array(np.full(mark_ts.size, SYMBOL), dtype="str"), "ts": mark_ts, "price": mark_price}
    )

    cycle_now = tuple(T0 + (history_h + k * cycle_every_h) * HOUR_MS for k in range(cycles))
    end = cycle_now[-1]
    n_guess = int((end - T0) / 1000 / signal_gap_s * 1.2) + 100
    arrivals = T0 + np.cumsum(rng.exponential(signal_gap_s * 1000.0, size=n_guess)).astype(np.int64)
    ts = arrivals[arrivals <= end]
    n = ts.size
    at = np.searchsorted(mark_ts, ts, side="right") - 1  # the bot's price: the last mark it saw
    p0 = mark_price[np.maximum(at, 0)]
    # The next-hour return (the 1h outcome's rule: first mark at or after ts + 1 h), for the edges.
    nxt = np.minimum(np.searchsorted(mark_ts, ts + HOUR_MS, side="left"), mark_ts.size - 1)
    r1h = mark_price[nxt] / p0 - 1.0
    z = (r1h - r1h.mean()) / r1h.std()

    comps: dict[str, np.ndarray] = {}
    makers = {
        "iid": lambda: rng.normal(size=n),
        "sparse": lambda: np.where(rng.random(n) < 0.5, 0.0, rng.standard_t(3, size=n)),
        "persist_1h": lambda: _ar_process(rng, ts, HOUR_MS),
        "persist_1d": lambda: _ar_process(rng, ts, 24 * HOUR_MS),
    }
    for name in noise:
        comps[name] = makers[name]()
    for name, rho in edges.items():
        comps[name] = rho * z + math.sqrt(1.0 - rho * rho) * rng.normal(size=n)
    none = np.full(n, None, dtype=object)
    signals = pd.DataFrame(
        {
            "event_id": pd.array([f"s{seed}-{i:06d}" for i in range(n)], dtype="str"),
            "ts": ts,
            "symbol": pd.array(np.full(n, SYMBOL), dtype="str"),
            "direction": pd.array(np.where(rng.random(n) < 0.5, "long", "short"), dtype="str"),
            "price": p0,
            "conviction": rng.random(n),
            "decision": pd.array(np.full(n, "executed"), dtype="str"),
            "blocked_by": none.copy(),
            "strategy": none.copy(),
            "expected_edge_bps": np.full(n, np.nan),
            "regime": none.copy(),
        }
    )
    components = pd.DataFrame({k: comps[k] for k in sorted(comps)})
    inputs = CycleInputs(signals=signals, components=components, trades=empty_trades(), prices=prices)
    planted = {name: 0.0 for name in noise} | edges
    return SimBot(seed, inputs, cycle_now, path_ts, path, planted)


def window_inputs(bot: SimBot, config: LearningConfig, now_ms: int, outcomes: pd.DataFrame) -> CycleInputs:
    """What the service loads for a cycle at watermark ``now_ms``: signals and trades in the lookback,
    the marks up to now that pending pairs can use, and the stored outcomes of those signals."""
    since = now_ms - config.lookback_seconds() * 1000
    sig = bot.inputs.signals
    ts = sig["ts"].to_numpy(dtype=np.int64)
    lo, hi = np.searchsorted(ts, since, side="left"), np.searchsorted(ts, now_ms, side="right")
    signals = sig.iloc[lo:hi].reset_index(drop=True)
    components = bot.inputs.components.iloc[lo:hi].reset_index(drop=True)
    trades = bot.inputs.trades
    tts = trades["ts"].to_numpy(dtype=np.int64)
    trades = trades[(tts >= since) & (tts <= now_ms)].reset_index(drop=True)
    marks = bot.inputs.prices
    mts = marks["ts"].to_numpy(dtype=np.int64)
    prices = marks[(mts >= since) & (mts <= now_ms)].reset_index(drop=True)
    if len(outcomes):
        ids = set(signals["event_id"].tolist())
        outcomes = outcomes[outcomes["signal_event_id"].isin(ids)].reset_index(drop=True)
    return CycleInputs(signals=signals, components=components, trades=trades, prices=prices, outcomes=outcomes)


def run_cycles(
    bot: SimBot, config: LearningConfig | None = None, sections: ParamSections | None = None
) -> list[tuple[CycleInputs, Proposal]]:
    """The bot's cycles as the service runs them: each on its window, with the previous document, the
    stored outcomes and the evidence clocks carried forward. Out: (inputs, proposal) per cycle."""
    config = config or LearningConfig()
    sections = sections or default_sections(config)
    outcomes = empty_outcomes()
    evidence: dict[str, int] = {}
    out: list[tuple[CycleInputs, Proposal]] = []
    for now in bot.cycle_now_ms:
        inputs = window_inputs(bot, config, now, outcomes)
        p = run_cycle(inputs, sections, config, "continuous", now, evidence=evidence)
        out.append((inputs, p))
        sections = p.sections
        if len(p.new_outcomes):
            outcomes = pd.concat([outcomes, p.new_outcomes], ignore_index=True)
        carried = p.facts.get("evidence") or {}
        assert isinstance(carried, dict)
        evidence = {str(k): int(v) for k, v in carried.items() if isinstance(v, int)}
    return out


def _alternatives(inputs: CycleInputs, p: Proposal, config: LearningConfig) -> dict[tuple[str, int, str], float]:
    """Per (component, horizon, method): t of the alternatives, on the cycle's data."""
    stored = pd.concat([inputs.outcomes, p.new_outcomes], ignore_index=True)
    enriched, _ = resolve_and_enrich(replace(inputs, outcomes=stored, outcome_rows=None), config, p.now_ms, 900)
    ts = enriched.signals["ts"].to_numpy(dtype=np.int64)
    out: dict[tuple[str, int, str], float] = {}
    for name in enriched.components.columns:
        score = enriched.components[name].to_numpy(dtype=np.float64)
        carried = np.flatnonzero(np.isfinite(score) & (score != 0.0))
        spacing = spacing_of(ts[carried])
        weights = {kind: test_weights(score[carried], kind) for kind in ("sign", "zscore", "rank", "clipped")}  # type: ignore[arg-type]
        for h in enriched.horizons_s:
            ret = enriched.signals[f"ret_{h}s"].to_numpy(dtype=np.float64)[carried]
            end = enriched.signals[f"mark_{h}s"].to_numpy(dtype=np.float64)[carried]
            ok = ~np.isnan(ret)
            sx = np.sign(score[carried][ok]) * ret[ok]
            out[(str(name), h, "old_bartlett")] = summarize(sx, lag=lag_for(spacing, h, sx.size)).t
            for kind, w in weights.items():
                ev = mean_test(w[ok] * ret[ok], start_ms=ts[carried][ok], end_ms=end[ok].astype(np.int64))
                out[(str(name), h, f"overlap_{kind}")] = ev.t
    return out


def simulate(seed: int, compare: bool = False) -> dict[str, object]:
    """One bot: which weights moved (up / down) within the cycles, and every per-test t."""
    config = LearningConfig()
    bot = simulated_bot(seed)
    runs = run_cycles(bot, config)
    moved: dict[str, int] = {}
    for _, p in runs:
        for c in p.changes:
            if not c.path.startswith("weights.") or not isinstance(c.new, float):
                continue
            before = c.old if isinstance(c.old, float) else 1.0  # a new component enters at the default, 1.0
            if c.new != before:
                moved.setdefault(c.path.split(".", 1)[1], 1 if c.new > before else -1)
    tests: dict[tuple[str, int, str], list[float]] = {}
    for inputs, p in runs:
        stored = pd.concat([inputs.outcomes, p.new_outcomes], ignore_index=True)
        enriched, _ = resolve_and_enrich(replace(inputs, outcomes=stored, outcome_rows=None), config, p.now_ms, 900)
        for s in component_stats(enriched, config):
            tests.setdefault((s.component, s.horizon_s, "chosen"), []).append(s.t)
        if compare:
            for key, t in _alternatives(inputs, p, config).items():
                tests.setdefault(key, []).append(t)
    final = runs[-1][1].sections.weights
    return {"seed": seed, "moved": moved, "tests": tests, "final": final, "signals": len(bot.inputs.signals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bots", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1000, help="first seed; bot i uses seed + i")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="also measure the alternative methods")
    parser.add_argument("--save", help="write every bot's result (moves, per-test t) to this pickle file")
    args = parser.parse_args()
    seeds = list(range(args.seed, args.seed + args.bots))
    print(f"load average before: {os.getloadavg()[0]:.2f}; bots {args.bots}, seeds {seeds[0]}..{seeds[-1]}")
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        results = pool.starmap(simulate, [(s, args.compare) for s in seeds], chunksize=4)
    elapsed = time.perf_counter() - started
    if args.save:
        with open(args.save, "wb") as fh:
            pickle.dump(results, fh)
    n = len(results)
    print(
        f"{n} bots x {CYCLES} cycles in {elapsed:.0f} s; "
        f"signals per bot ~{np.mean([r['signals'] for r in results]):.0f}"
    )

    def share(pred: object) -> tuple[int, float]:
        k = sum(1 for r in results if pred(r))  # type: ignore[operator]
        return k, k / n

    k, rate = share(lambda r: any(name in r["moved"] for name in NOISE))
    lo, hi = _wilson(k, n)
    print(
        f"\nnoise: bots with any of the {len(NOISE)} noise weights moved within {CYCLES} cycles: {k}/{n} = {rate:.1%} "
        f"(95% {lo:.1%}..{hi:.1%}; target <= 2%)"
    )
    for name in NOISE:
        k, rate = share(lambda r, name=name: name in r["moved"])
        print(f"  {name:>10}: {k}/{n} = {rate:.1%}")
    for name, rho in EDGES.items():
        k, rate = share(lambda r, name=name: r["moved"].get(name) == 1)
        wrong, _ = share(lambda r, name=name: r["moved"].get(name) == -1)
        lo, hi = _wilson(k, n)
        target = 0.70 if rho >= 0.08 else 0.35
        print(
            f"power rho={rho}: {name} weight rose within {CYCLES} cycles in {k}/{n} = {rate:.1%} "
            f"(95% {lo:.1%}..{hi:.1%}; target >= {target:.0%}); moved down in {wrong}"
        )

    methods = sorted({key[2] for r in results for key in r["tests"]})
    horizons = sorted({key[1] for r in results for key in r["tests"]})
    for method in methods:
        print(
            f"\nper-test P(|t| >= 3) [E t^2] per noise kind and horizon, method {method} "
            f"({n} bots x {CYCLES} cycles per cell; target <= 0.5%):"
        )
        print(f"  {'kind':>10} " + " ".join(f"{h:>16}s" for h in horizons))
        for name in NOISE:
            cells = []
            for h in horizons:
                ts = np.array([t for r in results for t in r["tests"].get((name, h, method), [])])
                cells.append(f"{np.mean(np.abs(ts) >= 3):>7.2%} [{np.mean(ts * ts):4.2f}]" if ts.size else "-")
            print(f"  {name:>10} " + " ".join(f"{c:>17}" for c in cells))
        edge_cells = []
        for name in EDGES:
            ts = np.array([t for r in results for t in r["tests"].get((name, 3600, method), [])])
            edge_cells.append(f"{name} at 1h: mean t {ts.mean():.2f}, P(t >= 3) {np.mean(ts >= 3):.1%}")
        print("  " + "; ".join(edge_cells))


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(c - h, 0.0), min(c + h, 1.0)


if __name__ == "__main__":
    main()
