"""Trade learners on realistic simulated bots: false moves on null bots, power on planted ones (issue #18).

Every bot trades five symbols made of real EURUSD hourly closes (``backtesting.test.EURUSD``): each
symbol is a different, randomly placed 11-day stretch of the series with its drift removed (start and
end at the same level: a trend would make one direction of a symbol really win), bridged to 5-minute
marks by a Brownian bridge. Signals arrive as a Poisson process (``--rate`` per hour) on random symbols, with a
random direction, a random conviction U(0, 1), a random expected edge U(0, 10) bps and one of three
strategies; 10% of them open a burst of 5 same-direction signals on the same symbol within 5
minutes. The bot follows its current document: a signal below the conviction gate, below the fee
gate or on a blocked combo is blocked (``blocked_by`` says which); every other one becomes a trade
held 1 h, entry at the signal's price, exit at the first mark at or after 1 h, net of a 1 bps
round-trip fee. Outcomes of every signal at 15m/1h/2h/4h are resolved by the outcome rule from the
marks and handed to the engine as stored outcomes (so planted effects can sit in them).

Cycles run as scheduled, 12 h apart from day 7 on, alternating comprehensive (07:00) and
continuous (19:00), calling ``core.learn.cycle.run_cycle`` directly; each cycle's document is the
next one's current document and decides the following 12 h of signals.

Every bot starts from: conviction gate 0.25, fee gate 1 bps, ``SYM1:short`` blocked, equal
allocation, hold 1 h (target 3600 s, max 7200 s), flat sizing. Scenarios:

- ``null``: nothing planted. Per learner, the share of bots in which it moved within 5 cycles.
- ``strategy``: strategy ``A`` earns +8 bps per trade: success = ``A`` has the largest fraction
  after 5 cycles.
- ``hold``: strategy ``A``'s signals pay +3 bps more at 4 h than at 1 h:
  success = ``A``'s hold target is 4 h after 5 cycles.
- ``combo``: ``SYM0:long`` trades ~25 times per 7 days and wins 28% of them: success = blocked
  within 5 cycles.
- ``release``: the blocked ``SYM1:short``'s signals pay +12 bps at 1 h from a day before the first
  cycle on: success = released within 8 cycles.
- ``interaction``: ``SYM0:long`` (trading as often as the other combos, ~60 times per 7 days)
  wins 10% of its trades and trades with an expected edge below 2 bps lose 8 bps more, fee gate
  starting at 0: success = within 5 cycles the combo is blocked and
  the fee gate rises, while the conviction gate and sizing never move.

    .venv/bin/python bench/calibration_trades.py [--null 200] [--planted 50] [--seed 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.learn.cycle import run_cycle  # noqa: E402
from core.learn.frames import CycleInputs, empty_prices  # noqa: E402
from core.learn.proposal import Proposal  # noqa: E402
from core.schemas.config import LearningConfig  # noqa: E402
from core.schemas.params import (  # noqa: E402
    Allocation,
    BlockedCombo,
    HoldPolicy,
    HoldTime,
    ParamSections,
    default_sections,
)

HOUR = 3_600_000
MARK = 300_000  # 5-minute marks
DAY = 24 * HOUR
T0 = 1_767_225_600_000 + 7 * HOUR  # 2026-01-01T07:00Z: cycles fall at 07:00 and 19:00
SYMBOLS = ("SYM0", "SYM1", "SYM2", "SYM3", "SYM4")
STRATEGIES = ("A", "B", "C")
FEE = 1e-4
NOTIONAL = 1000.0
HORIZONS = ("15m", "1h", "4h")
WARMUP_DAYS = 7
LEARNERS = ("allocation", "hold_time", "combo_block", "combo_release", "conviction_gate", "fee_gate", "sizing")
CONFIG = LearningConfig(horizons=list(HORIZONS))


def eurusd_log_closes() -> np.ndarray:
    """Log closes of the EURUSD hourly bars shipped with ``backtesting``."""
    from backtesting.test import EURUSD

    return np.asarray(np.log(EURUSD["Close"].to_numpy(dtype=np.float64)))


@dataclass
class Bot:
    """One simulated bot: its planted scenario and seeded randomness."""

    scenario: str
    seed: int
    cycles: int
    rate: float
    size: float | None = None  # the planted effect's size (power sweep); None: the scenario's default
    sections: ParamSections = field(default_factory=lambda: start_sections(1.0))

    def effect(self, default: float) -> float:
        return default if self.size is None else self.size


def start_sections(fee_gate: float) -> ParamSections:
    """The document every bot starts from (see the module docstring)."""
    s = default_sections(CONFIG)
    gates = s.gates.model_copy(deep=True)
    gates.conviction.min_conviction = 0.25
    gates.fee.min_expected_edge_bps = fee_gate
    blocked = BlockedCombo(
        symbol="SYM1",
        direction="short",
        since="2026-01-01T00:00:00.000Z",
        reason="start",
        trades=30,
        win_rate=0.3,
        pnl=-5,
    )
    third = round(1 / 3, 6)
    return s.model_copy(
        update={
            "gates": gates,
            "blocked_combos": [blocked],
            "allocation": Allocation(
                strategies={"A": 1 - 2 * third, "B": third, "C": third},
                symbols={s: 0.2 for s in SYMBOLS},
            ),
            "hold_time": HoldTime(default=HoldPolicy(target_s=3600, max_s=7200)),
        }
    )


def bridged_marks(rng: np.random.Generator, closes: np.ndarray, hours: int) -> np.ndarray:
    """symbols x (hours * 12 + 1) prices on 5-minute marks: random stretches of the hourly closes,
    bridged between closes with the stretch's own hourly volatility."""
    out = np.empty((len(SYMBOLS), hours * 12 + 1))
    for k in range(len(SYMBOLS)):
        start = int(rng.integers(0, closes.size - hours - 1))
        seg = closes[start : start + hours + 1] - closes[start]
        # Remove the stretch's drift: a week-long trend makes one direction of a symbol win for real,
        # which a null bot must not contain (every effect removed).
        seg = seg - np.arange(hours + 1) * seg[-1] / hours
        vol = float(np.diff(seg).std())
        steps = rng.normal(0.0, vol / np.sqrt(12), size=(hours, 12))
        walk = np.cumsum(steps, axis=1)
        # Brownian bridge: the walk with its end pinned to the next hourly close.
        frac = np.arange(1, 13) / 12.0
        bridge = walk - frac * walk[:, -1:] + frac * np.diff(seg)[:, None]
        path = np.concatenate([[0.0], (seg[:-1, None] + bridge).ravel()])
        out[k] = 1.1 * np.exp(path)
    return out


def make_signals(rng: np.random.Generator, bot: Bot, span_ms: int) -> pd.DataFrame:
    """The bot's raw signals over ``span_ms`` (decisions come later, from the document in force)."""
    n_events = int(rng.poisson(bot.rate * span_ms / HOUR))
    ts = np.sort(rng.integers(0, span_ms - 5 * 60_000, size=n_events))
    sym = rng.integers(0, len(SYMBOLS), size=n_events)
    direction = rng.choice(np.array([1, -1]), size=n_events)
    burst = rng.random(n_events) < 0.10
    reps = np.where(burst, 5, 1)
    ts = np.repeat(ts, reps) + np.concatenate(
        [np.sort(rng.integers(0, 300_000, size=r)) if r > 1 else [0] for r in reps]
    )
    sym = np.repeat(sym, reps)
    direction = np.repeat(direction, reps)
    n = ts.size
    if bot.scenario == "combo":
        # The losing combo trades ~25 times per 7 days (others ~ rate * 168 * 1.4 / 10 signals, of which
        # ~67.5% pass the starting gates: conviction >= 0.25 and expected edge >= 1 bps).
        losing = (sym == 0) & (direction == 1)
        per_week = bot.rate * 168 * 1.4 / 10 * 0.675
        keep = ~losing | (rng.random(n) < min(1.0, 25 / per_week))
        ts, sym, direction = ts[keep], sym[keep], direction[keep]
        n = ts.size
    order = np.argsort(ts, kind="stable")
    return pd.DataFrame(
        {
            "t": ts[order].astype(np.int64) + T0,
            "sym": sym[order],
            "dir": direction[order],
            "conv": rng.random(n),
            "edge": rng.uniform(0.0, 10.0, size=n),
            "strategy": np.array(STRATEGIES, dtype=object)[rng.integers(0, 3, size=n)],
            "u": rng.random(n),
        }
    )


def mark_index(ts: np.ndarray, after: bool) -> np.ndarray:
    """Index of the mark at or after (``after``) / at or before ``ts``."""
    rel = ts - T0
    return np.asarray((-(-rel // MARK)) if after else rel // MARK, dtype=np.int64)


def plant_outcomes(bot: Bot, raw: pd.DataFrame, h_s: int, aligned: np.ndarray, first_cycle: int) -> np.ndarray:
    """Planted extra aligned return (fraction) per signal at horizon ``h_s``."""
    extra = np.zeros(len(raw))
    if bot.scenario == "hold":
        a = (raw["strategy"] == "A").to_numpy()
        extra[a] = bot.effect(3.0) * 1e-4 if h_s == 14400 else 0.0
    if bot.scenario == "release" and h_s == 3600:
        turned = (
            (raw["sym"].to_numpy() == 1) & (raw["dir"].to_numpy() == -1) & (raw["t"].to_numpy() >= first_cycle - DAY)
        )
        extra[turned] = bot.effect(12.0) * 1e-4
    return extra


def simulate(bot: Bot, closes: np.ndarray) -> list[Proposal]:
    """Run the bot's cycles; returns one proposal per cycle."""
    rng = np.random.default_rng(bot.seed)
    hours = WARMUP_DAYS * 24 + bot.cycles * 12 + 6
    marks = bridged_marks(rng, closes, hours)
    span = hours * HOUR - 5 * HOUR  # room for every 4 h outcome inside the marks
    raw = make_signals(rng, bot, span)
    n = len(raw)
    sym = raw["sym"].to_numpy()
    d = raw["dir"].to_numpy().astype(np.float64)
    t = raw["t"].to_numpy(dtype=np.int64)
    price = marks[sym, mark_index(t, after=False)]
    first_cycle = T0 + WARMUP_DAYS * DAY
    horizons = CONFIG.horizon_seconds()
    raw_ret: dict[int, np.ndarray] = {}
    mark_ts: dict[int, np.ndarray] = {}
    for h in horizons:
        j = mark_index(t + h * 1000, after=True)
        r = marks[sym, j] / price - 1.0
        r += d * plant_outcomes(bot, raw, h, d * r, first_cycle)
        raw_ret[h] = r
        mark_ts[h] = T0 + j * MARK
    # Trades: held 1 h, net of the fee; planted effects on the realized pnl.
    trade_ret = d * raw_ret[3600] - FEE
    strat = raw["strategy"].to_numpy(dtype=object)
    if bot.scenario == "strategy":
        trade_ret = trade_ret + np.where(strat == "A", bot.effect(8.0) * 1e-4, 0.0)
    u = raw["u"].to_numpy()
    if bot.scenario in ("combo", "interaction"):
        losing = (sym == 0) & (d > 0)
        rate = bot.effect(0.28) if bot.scenario == "combo" else 0.10
        size = np.abs(d * raw_ret[3600]) + 2e-4
        trade_ret = np.where(losing, np.where(u < rate, size, -size) - FEE, trade_ret)
    if bot.scenario == "interaction":
        trade_ret = trade_ret - np.where(raw["edge"].to_numpy() < 2.0, 8e-4, 0.0)
    conv_all = raw["conv"].to_numpy()
    if bot.scenario == "conviction":  # trades with conviction 0.25-0.5 lose more
        trade_ret = trade_ret - np.where((conv_all >= 0.25) & (conv_all < 0.5), bot.effect(6.0) * 1e-4, 0.0)
    if bot.scenario == "fee":  # trades expecting < 2 bps lose more
        trade_ret = trade_ret - np.where(raw["edge"].to_numpy() < 2.0, bot.effect(8.0) * 1e-4, 0.0)
    if bot.scenario == "sizing":  # trades with conviction >= 0.75 earn more
        trade_ret = trade_ret + np.where(conv_all >= 0.75, bot.effect(8.0) * 1e-4, 0.0)
    close_t = t + HOUR

    sections = start_sections(0.0 if bot.scenario in ("interaction", "fee") else 1.0)
    conv = raw["conv"].to_numpy()
    edge = raw["edge"].to_numpy()
    blocked_by = np.full(n, None, dtype=object)
    decided = 0
    sym_names = np.array(SYMBOLS, dtype=object)[sym]
    dir_names = np.where(d > 0, "long", "short").astype(object)
    event_ids = np.array([f"s{k:06d}" for k in range(n)], dtype=object)
    proposals: list[Proposal] = []
    clocks: dict[str, int] = {}
    for c in range(bot.cycles):
        now = first_cycle + c * 12 * HOUR
        upto = int(np.searchsorted(t, now, side="right"))
        # Decide the signals since the last cycle with the document in force.
        seg = slice(decided, upto)
        combos = {(b.symbol, b.direction) for b in sections.blocked_combos}
        in_combo = np.array([(s, x) in combos for s, x in zip(sym_names[seg], dir_names[seg], strict=True)], dtype=bool)
        why = np.where(
            conv[seg] < sections.gates.conviction.min_conviction,
            "conviction_gate",
            np.where(
                edge[seg] < sections.gates.fee.min_expected_edge_bps,
                "fee_gate",
                np.where(in_combo, "blocked_combo", None),
            ),
        )
        blocked_by[seg] = why
        decided = upto
        proposal = run_cycle(
            cycle_inputs(
                raw, upto, now, event_ids, sym_names, dir_names, price, blocked_by, raw_ret, mark_ts, trade_ret, close_t
            ),
            sections,
            CONFIG,
            "comprehensive" if c % 2 == 0 else "continuous",
            now,
            evidence=clocks,
        )
        clocks = {str(k): int(v) for k, v in dict(proposal.facts.get("evidence") or {}).items()}  # type: ignore[arg-type]
        proposals.append(proposal)
        sections = proposal.sections
    return proposals


def cycle_inputs(
    raw: pd.DataFrame,
    upto: int,
    now: int,
    event_ids: np.ndarray,
    sym_names: np.ndarray,
    dir_names: np.ndarray,
    price: np.ndarray,
    blocked_by: np.ndarray,
    raw_ret: dict[int, np.ndarray],
    mark_ts: dict[int, np.ndarray],
    trade_ret: np.ndarray,
    close_t: np.ndarray,
) -> CycleInputs:
    """The engine's frames as of ``now``: signals so far, closed trades, outcomes whose mark has come."""
    t = raw["t"].to_numpy(dtype=np.int64)
    since = now - CONFIG.lookback_seconds() * 1000 - 5 * HOUR
    lo = int(np.searchsorted(t, since))
    rows = np.arange(lo, upto)
    by = blocked_by[rows]
    blocked = np.array([b is not None for b in by], dtype=bool)
    signals = pd.DataFrame(
        {
            "event_id": pd.array(event_ids[rows], dtype="str"),
            "ts": t[rows],
            "symbol": pd.array(sym_names[rows], dtype="str"),
            "direction": pd.array(dir_names[rows], dtype="str"),
            "price": price[rows],
            "conviction": raw["conv"].to_numpy()[rows],
            "decision": pd.array(np.where(blocked, "blocked", "executed"), dtype="str"),
            "blocked_by": by.astype(object),
            "strategy": raw["strategy"].to_numpy(dtype=object)[rows],
            "expected_edge_bps": raw["edge"].to_numpy()[rows],
            "regime": np.full(rows.size, None, dtype=object),
        }
    )
    parts = []
    for h, r in raw_ret.items():
        ok = mark_ts[h][rows] <= now
        parts.append(
            pd.DataFrame(
                {
                    "signal_event_id": pd.array(event_ids[rows][ok], dtype="str"),
                    "horizon_s": np.full(int(ok.sum()), h, dtype=np.int64),
                    "status": pd.array(np.full(int(ok.sum()), "resolved", dtype=object), dtype="str"),
                    "ret": r[rows][ok],
                    "mark_ts": mark_ts[h][rows][ok].astype(np.int64),
                    "reason": pd.Series(np.full(int(ok.sum()), None, dtype=object), dtype=object),
                }
            )
        )
    outcomes = pd.concat(parts, ignore_index=True)
    traded = rows[~blocked & (close_t[rows] <= now)]
    qty = NOTIONAL / price[traded]
    ret = trade_ret[traded]
    exit_price = price[traded] * (1 + ret + FEE * np.sign(raw["dir"].to_numpy()[traded]))
    trades = pd.DataFrame(
        {
            "event_id": pd.array([f"t{k}" for k in traded], dtype="str"),
            "symbol": pd.array(sym_names[traded], dtype="str"),
            "direction": pd.array(dir_names[traded], dtype="str"),
            "opened_at": t[traded],
            "ts": close_t[traded],
            "entry_price": price[traded],
            "exit_price": exit_price,
            "quantity": qty,
            "pnl": ret * NOTIONAL,
            "fees": np.full(traded.size, FEE * NOTIONAL),
            "strategy": raw["strategy"].to_numpy(dtype=object)[traded],
            "conviction": np.full(traded.size, np.nan),
            "signal_event_id": event_ids[traded].astype(object),
            "venue": np.full(traded.size, None, dtype=object),
            "regime": np.full(traded.size, None, dtype=object),
        }
    )
    return CycleInputs(
        signals=signals,
        components=pd.DataFrame(index=pd.RangeIndex(len(signals))),
        trades=trades,
        prices=empty_prices(),
        outcomes=outcomes,
    )


def first_move(proposals: list[Proposal], moved: Callable[[str, object, object], bool]) -> int | None:
    """Index of the first cycle with a change that ``moved(path, old, new)`` accepts."""
    for i, p in enumerate(proposals):
        if any(moved(c.path, c.old, c.new) for c in p.changes):
            return i
    return None


MOVES: dict[str, Callable[[str, object, object], bool]] = {
    "allocation": lambda path, old, new: path.startswith("allocation."),
    "hold_time": lambda path, old, new: path.startswith("hold_time."),
    "combo_block": lambda path, old, new: path.startswith("blocked_combos[") and old is None,
    "combo_release": lambda path, old, new: path.startswith("blocked_combos[") and new is None,
    "conviction_gate": lambda path, old, new: path == "gates.conviction.min_conviction",
    "fee_gate": lambda path, old, new: path == "gates.fee.min_expected_edge_bps",
    "sizing": lambda path, old, new: path.startswith("sizing."),
}


def judge(bot: Bot, proposals: list[Proposal]) -> dict[str, object]:
    """What happened to one bot: per learner the first cycle it moved, and the scenario's success."""
    within5 = proposals[:5]
    moved = {name: first_move(within5, rule) for name, rule in MOVES.items()}
    out: dict[str, object] = {"scenario": bot.scenario, "seed": bot.seed, "moved": moved}
    last5 = within5[-1].sections
    if bot.scenario == "strategy":
        fr = last5.allocation.strategies
        out["success"] = fr["A"] > max(fr["B"], fr["C"]) + 0.01  # moved, not the start's rounding unit
    elif bot.scenario == "hold":
        policy = last5.hold_time.by_strategy.get("A")
        out["success"] = policy is not None and policy.target_s == 14400
    elif bot.scenario == "combo":
        out["success"] = first_move(within5, lambda p, o, n: p == "blocked_combos[SYM0:long]" and o is None) is not None
    elif bot.scenario == "release":
        out["success"] = (
            first_move(proposals[:8], lambda p, o, n: p == "blocked_combos[SYM1:short]" and n is None) is not None
        )
        out["release_cycle"] = first_move(
            proposals[:8], lambda p, o, n: p == "blocked_combos[SYM1:short]" and n is None
        )
    elif bot.scenario == "conviction":
        out["success"] = (
            first_move(within5, lambda p, o, n: p == "gates.conviction.min_conviction" and n == 0.5) is not None
        )
    elif bot.scenario == "fee":
        out["success"] = (
            first_move(within5, lambda p, o, n: p == "gates.fee.min_expected_edge_bps" and n > o) is not None
        )  # type: ignore[operator]
    elif bot.scenario == "sizing":
        out["success"] = first_move(within5, lambda p, o, n: p == "sizing.buckets[3].multiplier" and n > o) is not None  # type: ignore[operator]
    elif bot.scenario == "interaction":
        blocked = first_move(within5, lambda p, o, n: p == "blocked_combos[SYM0:long]" and o is None) is not None
        fee_up = first_move(within5, lambda p, o, n: p == "gates.fee.min_expected_edge_bps" and n > o) is not None  # type: ignore[operator]
        out["success"] = blocked and fee_up and moved["conviction_gate"] is None and moved["sizing"] is None
        out["parts"] = {
            "blocked": blocked,
            "fee_up": fee_up,
            "conviction": moved["conviction_gate"],
            "sizing": moved["sizing"],
        }
    return out


_CLOSES: np.ndarray | None = None


def run_bot(bot: Bot) -> dict[str, object]:
    global _CLOSES
    if _CLOSES is None:
        _CLOSES = eurusd_log_closes()
    return judge(bot, simulate(bot, _CLOSES))


# Per learner: planted effect sizes of the power sweep, their unit, cycles allowed.
SWEEP: dict[str, tuple[tuple[float, ...], str, int]] = {
    "strategy": ((1.0, 2.0, 4.0, 8.0), "bps per trade of strategy A", 5),
    "hold": ((3.0, 5.0, 8.0), "bps more at 4h than 1h (strategy A)", 5),
    "combo": ((0.05, 0.1, 0.15, 0.28), "win rate of SYM0:long at ~25 trades / 7 days", 5),
    "release": ((6.0, 12.0, 20.0), "bps at 1h of the blocked combo's signals", 8),
    "conviction": ((3.0, 6.0, 10.0), "bps lost by trades with conviction 0.25-0.5", 5),
    "fee": ((3.0, 5.0, 8.0), "bps lost by trades expecting < 2 bps", 5),
    "sizing": ((3.0, 6.0, 10.0), "bps earned by trades with conviction >= 0.75", 5),
}


def power_sweep(args: argparse.Namespace) -> None:
    """Detection rate per learner and planted effect size (success as in ``judge``)."""
    bots = [
        Bot(scenario=name, seed=args.seed + 1000 * i + 100 * j + k, cycles=cycles, rate=args.rate, size=size)
        for i, (name, (sizes, _, cycles)) in enumerate(SWEEP.items())
        if not args.only or name in args.only.split(",")
        for j, size in enumerate(sizes)
        for k in range(args.power)
    ]
    print(f"load average {os.getloadavg()}; power sweep, {args.power} bots per size, rate {args.rate}/h")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run_bot, bots, chunksize=2))
    for name, (sizes, unit, cycles) in SWEEP.items():
        rows = [(b, r) for b, r in zip(bots, results, strict=True) if b.scenario == name]
        if not rows:
            continue
        cells = []
        for size in sizes:
            hit = [bool(r.get("success")) for b, r in rows if b.size == size]
            cells.append(f"{size:g}: {sum(hit)}/{len(hit)}")
        print(f"  {name:11s} within {cycles} cycles, {unit}: " + ", ".join(cells))
    print(f"{len(bots)} bots in {time.perf_counter() - start:.1f} s; load average after {os.getloadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--null", type=int, default=200, help="null bots")
    ap.add_argument("--planted", type=int, default=50, help="bots per planted scenario")
    ap.add_argument("--seed", type=int, default=1, help="first seed; bot k of a scenario uses seed + k")
    ap.add_argument("--rate", type=float, default=4.0, help="signal events per hour (before bursts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated scenarios to run (default all)")
    ap.add_argument("--power", type=int, default=0, help="instead: power sweep with this many bots per size")
    args = ap.parse_args()
    if args.power:
        power_sweep(args)
        return
    plan = {"null": (args.null, 5), "strategy": (args.planted, 5), "hold": (args.planted, 5)}
    plan |= {"combo": (args.planted, 5), "release": (args.planted, 8), "interaction": (args.planted, 5)}
    if args.only:
        plan = {k: v for k, v in plan.items() if k in args.only.split(",")}
    bots = [
        Bot(scenario=name, seed=args.seed + 1000 * i + k, cycles=cycles, rate=args.rate)
        for i, (name, (count, cycles)) in enumerate(plan.items())
        for k in range(count)
    ]
    print(f"load average {os.getloadavg()}; seeds: scenario i, bot k -> {args.seed} + 1000 i + k; rate {args.rate}/h")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run_bot, bots, chunksize=4))
    elapsed = time.perf_counter() - start
    by: dict[str, list[dict[str, object]]] = {}
    for r in results:
        by.setdefault(str(r["scenario"]), []).append(r)
    if "null" in by:
        rows = by["null"]
        print(f"\nnull bots: {len(rows)}; share of bots in which each learner moved within 5 cycles (target <= 2%)")
        for name in LEARNERS:
            k = sum(1 for r in rows if r["moved"][name] is not None)  # type: ignore[index]
            verdict = "ok" if k / len(rows) <= 0.02 else "MISSED"
            print(f"  {name:16s} {k:4d} / {len(rows)} = {k / len(rows):6.1%}  {verdict}")
        k_any = sum(1 for r in rows if any(v is not None for v in r["moved"].values()))  # type: ignore[attr-defined]
        print(f"  {'any learner':16s} {k_any:4d} / {len(rows)} = {k_any / len(rows):6.1%}")
    targets = {"strategy": 0.8, "hold": 0.8, "combo": 0.9, "release": 0.6, "interaction": 0.9}
    if any(s in by for s in targets):
        print("\nplanted bots: success rate (target)")
    for name, target in targets.items():
        if name not in by:
            continue
        rows = by[name]
        k = sum(1 for r in rows if r.get("success"))
        extra = ""
        if name == "interaction":
            parts = [r["parts"] for r in rows]
            extra = (
                f"  [blocked {sum(1 for p in parts if p['blocked'])}, fee up {sum(1 for p in parts if p['fee_up'])}, "  # type: ignore[index]
                f"conviction moved {sum(1 for p in parts if p['conviction'] is not None)}, "  # type: ignore[index]
                f"sizing moved {sum(1 for p in parts if p['sizing'] is not None)}]"  # type: ignore[index]
            )
        if name == "release":
            cyc = [r["release_cycle"] for r in rows if r["release_cycle"] is not None]
            extra = f"  [release cycle median {np.median(cyc) + 1 if cyc else float('nan'):.0f}]"
        verdict = "ok" if k / len(rows) >= target else "MISSED"
        print(f"  {name:12s} {k:4d} / {len(rows)} = {k / len(rows):6.1%}  (>= {target:.0%}) {verdict}{extra}")
    print(f"\n{len(bots)} bots in {elapsed:.1f} s on {args.workers} workers; load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
