"""Reports behind /reports/signals, /gates, /combos and /missed: JSON-safe rows, pure functions."""

from __future__ import annotations

import pandas as pd

from core.learn.combos import combo_key, combo_stats
from core.learn.counterfactual import blocked_frame, gates_report, missed_report
from core.learn.enrich import Enriched
from core.learn.proposal import JsonValue, jsonable
from core.learn.weights import ComponentStat, component_stats
from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo, ParamSections

Rows = list[dict[str, JsonValue]]


def signals_report(stats: list[ComponentStat], sections: ParamSections, labels: dict[int, str]) -> Rows:
    """Per component x horizon: component, horizon, n, ev_bps, hit_rate, t, naive_t, weight (current)."""
    rows: Rows = []
    for s in sorted(stats, key=lambda s: (s.component, s.horizon_s)):
        weight = sections.weights.get(s.component, sections.default_weight)
        row = {
            "component": s.component,
            "horizon": labels.get(s.horizon_s, f"{s.horizon_s}s"),
            "n": s.n,
            "ev_bps": s.ev_bps if s.n else None,
            "hit_rate": s.hit_rate if s.n else None,
            "t": s.t if s.n else None,
            "naive_t": s.naive_t if s.n else None,
            "weight": weight,
        }
        rows.append({k: jsonable(v) for k, v in row.items()})
    return rows


def combos_report(stats: pd.DataFrame, blocked: list[BlockedCombo]) -> Rows:
    """Per symbol+direction with trades or a block: trades, win_rate, wilson_low/high, pnl, blocked."""
    keys = {combo_key(b.symbol, b.direction) for b in blocked}
    rows: Rows = []
    seen: set[str] = set()
    for r in stats.to_dict(orient="records"):  # one row per symbol+direction group
        key = combo_key(str(r["symbol"]), str(r["direction"]))
        seen.add(key)
        row = {
            "symbol": str(r["symbol"]),
            "direction": str(r["direction"]),
            "trades": int(r["trades"]),
            "win_rate": float(r["win_rate"]),
            "wilson_low": float(r["wilson_low"]),
            "wilson_high": float(r["wilson_high"]),
            "pnl": float(r["pnl"]),
            "blocked": key in keys,
        }
        rows.append({k: jsonable(v) for k, v in row.items()})
    for b in sorted(blocked, key=lambda b: (b.symbol, b.direction)):
        if combo_key(b.symbol, b.direction) not in seen:
            rows.append(
                {
                    "symbol": b.symbol,
                    "direction": b.direction,
                    "trades": 0,
                    "win_rate": None,
                    "wilson_low": None,
                    "wilson_high": None,
                    "pnl": 0.0,
                    "blocked": True,
                }
            )
    return sorted(rows, key=lambda r: (str(r["symbol"]), str(r["direction"])))


def all_reports(
    enriched: Enriched,
    sections: ParamSections,
    config: LearningConfig,
    stats: list[ComponentStat] | None = None,
    combos: pd.DataFrame | None = None,
) -> dict[str, Rows]:
    """signals, gates, combos and missed reports of one enriched frame (``stats``, ``combos``: reuse the
    per component x horizon and per combo statistics when the cycle already computed them)."""
    stats = component_stats(enriched, config) if stats is None else stats
    blocked = blocked_frame(enriched)
    return {
        "signals": signals_report(stats, sections, enriched.labels),
        "gates": gates_report(enriched, blocked),
        "combos": combos_report(combo_stats(enriched) if combos is None else combos, sections.blocked_combos),
        "missed": missed_report(enriched, frame=blocked),
    }
