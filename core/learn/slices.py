"""Component EV per slice (symbol x direction, strategy): the report behind /reports/slices.

Statistic: per component c, over the signals carrying c (score != 0) with an outcome at c's horizon
(``signal_horizons[c]``, else the evaluation horizon), a = sign(score) x return (c's aligned return).
Per slice s (one symbol x direction, or one strategy): n, EV = mean(a) in bps and its t from the
significance layer (overlap errors from the outcome windows); the pooled EV is mean(a) over all of c's
signals.

Shrinkage (empirical Bayes, per component and slicing): slice means m_i with sampling variances
se_i^2 (the layer's standard errors) scatter around the pool with between-slice variance tau^2,
estimated by DerSimonian-Laird: tau^2 = max(0, (Q - (k - 1)) / (S1 - S2 / S1)) with w_i = 1 / se_i^2,
Q = sum w_i (m_i - m_w)^2, S1 = sum w_i, S2 = sum w_i^2 (precision-weighted, so a tiny slice's wild
mean cannot inflate tau^2 by itself). The shrunk EV is
pooled + B_i (m_i - pooled) with B_i = tau^2 / (tau^2 + se_i^2), i.e. n / (n + k) with
k = sigma^2 / tau^2: a small slice (large se) shows mostly the pooled figure, and when the slices do
not scatter more than sampling noise explains (tau^2 = 0) every slice shows the pool.

Flag: "does s differ from the rest of c?" is the contrast mean_s(a) - mean_rest(a), written as the
mean of per-signal contributions y = N a (1[s] / n_s - 1[not s] / n_rest) and tested by the layer
(as regime weights do). Family: every slice of every component with n_s >= ``min_outcomes`` and
n_rest >= ``min_outcomes``, Holm at the p of |t| >= ``min_t``: on pure noise the chance that any
slice is flagged in a cycle is at most that p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.learn.enrich import Enriched, mark_col, ret_col
from core.learn.proposal import JsonValue, jsonable
from core.learn.significance import Evidence, family, mean_test_members, overlap_reach
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections

Rows = list[dict[str, JsonValue]]


@dataclass(frozen=True)
class SliceStat:
    """One component x slice: its test, the contrast with the rest of the component, and the shrunk EV."""

    component: str
    horizon: str
    slice_by: str  # "symbol_direction" or "strategy"
    symbol: str | None
    direction: str | None
    strategy: str | None
    evidence: Evidence
    contrast: Evidence | None  # None when the rest of the component is too small to compare with
    pooled_ev_bps: float
    shrink: float  # B_i: the weight of the slice's own EV in the shrunk figure
    shrunk_ev_bps: float


def horizon_of(enriched: Enriched, label: str | None) -> int:
    """The horizon (s) whose label is ``label``, else the evaluation horizon."""
    for h, name in enriched.labels.items():
        if name == label:
            return h
    return enriched.eval_horizon_s


def shrink_factors(means: np.ndarray, ses: np.ndarray) -> np.ndarray:
    """Empirical-Bayes weights B_i = tau^2 / (tau^2 + se_i^2), tau^2 by DerSimonian-Laird over the slices
    with a finite, positive se (others get 0: no evidence of their own)."""
    ok = np.isfinite(ses) & np.isfinite(means) & (ses > 0)
    out = np.zeros(means.size)
    if ok.sum() < 2:
        return out
    m, v = means[ok], ses[ok] ** 2
    w = 1.0 / v
    centre = float(np.sum(w * m) / np.sum(w))
    q = float(np.sum(w * (m - centre) ** 2))
    scale = float(np.sum(w) - np.sum(w * w) / np.sum(w))
    tau2 = max(0.0, (q - (m.size - 1)) / scale) if scale > 0 else 0.0
    if tau2 > 0.0:
        out[ok] = tau2 / (tau2 + v)
    return out


def slice_stats(enriched: Enriched, current: ParamSections, config: LearningConfig) -> list[SliceStat]:
    """Per component x slice (sorted): n, EV, t, the contrast with the rest, and the shrunk EV."""
    sig = enriched.signals
    ts = sig["ts"].to_numpy(dtype=np.int64)
    symbols = sig["symbol"].to_numpy(dtype=object)
    directions = sig["direction"].to_numpy(dtype=object)
    strategies = sig["strategy"].to_numpy(dtype=object) if "strategy" in sig else np.full(len(sig), None)
    out: list[SliceStat] = []
    for component in sorted(str(c) for c in enriched.components.columns):
        h = horizon_of(enriched, current.signal_horizons.get(component))
        ret = sig[ret_col(h)].to_numpy(dtype=np.float64)
        marks = sig[mark_col(h)].to_numpy(dtype=np.float64)
        reach = overlap_reach(ts, np.where(np.isnan(marks), ts, marks).astype(np.int64))
        score = enriched.components[component].to_numpy(dtype=np.float64)
        members = np.flatnonzero(np.isfinite(score) & (score != 0.0) & np.isfinite(ret))
        if members.size == 0:
            continue
        a = np.sign(score[members]) * ret[members]
        pooled = float(a.mean())
        keys: list[tuple[str, str | None, str | None, str | None, np.ndarray]] = []
        for sym in sorted({str(s) for s in symbols[members]}):
            for d in ("long", "short"):
                inside = (symbols[members] == sym) & (directions[members] == d)
                if inside.any():
                    keys.append(("symbol_direction", sym, d, None, inside))
        for strat in sorted({str(s) for s in strategies[members] if s is not None}):
            keys.append(("strategy", None, None, strat, strategies[members] == strat))
        tests = [mean_test_members(a[inside], members[inside], reach) for *_, inside in keys]
        factors = np.zeros(len(keys))
        for kind in ("symbol_direction", "strategy"):
            idx = [i for i, k in enumerate(keys) if k[0] == kind]
            if idx:
                means = np.array([tests[i].mean for i in idx])
                ses = np.array([tests[i].se for i in idx])
                factors[idx] = shrink_factors(means, ses)
        for (by, symbol, direction, strategy, inside), ev, b in zip(keys, tests, factors, strict=True):
            n_s, n_rest = int(inside.sum()), int((~inside).sum())
            contrast = None
            if n_s >= 2 and n_rest >= 2:
                y = members.size * a * np.where(inside, 1.0 / n_s, -1.0 / n_rest)
                contrast = mean_test_members(y, members, reach)
            shrunk = pooled + float(b) * (ev.mean - pooled)
            out.append(
                SliceStat(
                    component,
                    enriched.labels.get(h, f"{h}s"),
                    by,
                    symbol,
                    direction,
                    strategy,
                    ev,
                    contrast,
                    pooled * 1e4,
                    float(b),
                    shrunk * 1e4,
                )
            )
    return out


def slices_report(stats: list[SliceStat], config: LearningConfig) -> Rows:
    """JSON rows of ``slice_stats`` with ``flagged``: the contrast passes Holm across all eligible slices."""
    eligible = [
        i
        for i, s in enumerate(stats)
        if s.contrast is not None
        and s.evidence.n >= config.min_outcomes
        and s.contrast.n - s.evidence.n >= config.min_outcomes
    ]
    tests = [c for i in eligible if (c := stats[i].contrast) is not None]
    passed = family(tests, config.min_t, "holm")
    flagged = {i for i, ok in zip(eligible, passed, strict=True) if ok}
    eligible_set = set(eligible)
    rows: Rows = []
    for i, s in enumerate(stats):
        row: dict[str, object] = {
            "component": s.component,
            "horizon": s.horizon,
            "slice_by": s.slice_by,
            "symbol": s.symbol,
            "direction": s.direction,
            "strategy": s.strategy,
            "n": s.evidence.n,
            "ev_bps": s.evidence.mean * 1e4,
            "t": s.evidence.t if s.evidence.usable else None,
            "pooled_ev_bps": s.pooled_ev_bps,
            "shrunk_ev_bps": s.shrunk_ev_bps,
            "shrink": s.shrink,
            "contrast_t": s.contrast.t if s.contrast is not None and s.contrast.usable else None,
            "contrast_p": s.contrast.p if s.contrast is not None else None,
            "eligible": i in eligible_set,
            "flagged": i in flagged,
        }
        rows.append({k: jsonable(v) for k, v in row.items()})
    return rows
