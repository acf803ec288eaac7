"""Daily rules: conjunctions of up to 2 conditions whose signals lose (or pay) with significance
(DESIGN.md section 11; comprehensive cycle).

Conditions (atoms): ``symbol``, ``direction``, ``strategy``, ``regime`` (signals without one match no
value), ``hour_bucket`` (UTC hour // 4, 0-5), ``weekday`` (0 = Monday, UTC), ``conviction_bucket``
(index into ``conviction_buckets``) and ``sign:<component>`` (+1 / -1; a zero score has no sign).
Candidates: every atom and every pair of atoms on different fields.
Statistic: per signal, the aligned return at the evaluation horizon net of the median round-trip fee
(``Enriched.net_counterfactual``), executed and blocked alike; where a signal has linked trades, their
realized return. Each candidate with at least ``rule_min_support`` resolved signals is tested by the
significance layer (overlap errors from the outcome windows), and Benjamini-Hochberg at ``rule_fdr``
runs across every candidate tested. A kept candidate becomes a rule: ``avoid`` if its mean is
negative, ``prefer`` if positive; at most ``max_rules``, strongest (largest |t|) first.
Expiry: a kept rule's ``expires_at`` is now + ``evidence_ttl``; a cycle that keeps it again renews it;
a rule past its ``expires_at`` without renewal is removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import orjson

from core.learn.enrich import Enriched
from core.learn.frames import rfc3339_ms
from core.learn.proposal import Change, JsonValue, make_stats
from core.learn.significance import Evidence, benjamini_hochberg, mean_test_members, overlap_reach
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import Rule

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
Value = str | int
Atom = tuple[str, Value]


@dataclass(frozen=True)
class Candidate:
    """One tested conjunction: its conditions, the test, whether Benjamini-Hochberg kept it."""

    when: tuple[Atom, ...]
    evidence: Evidence
    kept: bool = False


def rule_id(when: Sequence[Atom]) -> str:
    """A stable id of a set of conditions (the same conditions give the same id in every cycle)."""
    digest = hashlib.sha256(orjson.dumps(sorted((f, str(v)) for f, v in when))).hexdigest()
    return f"r-{digest[:10]}"


def _atoms(enriched: Enriched, config: LearningConfig, resolved: np.ndarray) -> list[tuple[Atom, np.ndarray]]:
    """Every condition with its mask over the signals (only values some resolved signal has)."""
    sig = enriched.signals
    ts = sig["ts"].to_numpy(dtype=np.int64)
    columns: dict[str, np.ndarray] = {
        "symbol": sig["symbol"].to_numpy(dtype=object),
        "direction": sig["direction"].to_numpy(dtype=object),
        "strategy": sig["strategy"].to_numpy(dtype=object),
        "regime": sig["regime"].to_numpy(dtype=object),
        "hour_bucket": (ts % DAY_MS) // (4 * HOUR_MS),
        "weekday": (ts // DAY_MS + EPOCH_WEEKDAY) % 7,
    }
    edges = np.asarray(config.conviction_buckets, dtype=np.float64)
    conv = sig["conviction"].to_numpy(dtype=np.float64)
    bucket = np.clip(np.searchsorted(edges, conv, side="right") - 1, 0, max(edges.size - 2, 0))
    columns["conviction_bucket"] = np.where(np.isfinite(conv), bucket, -1)
    for name in enriched.components.columns:
        score = enriched.components[name].to_numpy(dtype=np.float64)
        columns[f"sign:{name}"] = np.where(score > 0, 1, np.where(score < 0, -1, 0))
    out: list[tuple[Atom, np.ndarray]] = []
    for field, values in columns.items():
        # no condition on a missing value: no strategy/regime (None), no conviction (-1), a zero score (0)
        missing = 0 if field.startswith("sign:") else -1 if field == "conviction_bucket" else None
        for value in sorted({v for v in values[resolved].tolist() if v != missing and v is not None}, key=str):
            out.append(((field, value if isinstance(value, int) else str(value)), resolved & (values == value)))
    return out


def rule_returns(enriched: Enriched) -> np.ndarray:
    """What a rule is tested on, per signal: linked trades' realized return, else the net counterfactual."""
    x = enriched.net_counterfactual()
    sig = enriched.signals
    traded = sig["trade_count"].to_numpy(dtype=np.float64) > 0
    realized = sig["trade_return"].to_numpy(dtype=np.float64)
    return np.where(traded & np.isfinite(realized) & np.isfinite(x), realized, x)


def rule_candidates(enriched: Enriched, config: LearningConfig) -> list[Candidate]:
    """Every candidate with enough support, tested, with Benjamini-Hochberg at ``rule_fdr`` across all of them."""
    x = rule_returns(enriched)
    resolved = np.isfinite(x)
    start, end = enriched.windows(enriched.eval_horizon_s)
    reach = overlap_reach(start, end)
    atoms = [(a, m) for a, m in _atoms(enriched, config, resolved) if int(m.sum()) >= config.rule_min_support]
    tested: list[tuple[tuple[Atom, ...], Evidence]] = []
    for atom, mask in atoms:
        members = np.flatnonzero(mask)
        tested.append(((atom,), mean_test_members(x[members], members, reach)))
    for (a, ma), (b, mb) in combinations(atoms, 2):
        if a[0] == b[0]:
            continue
        members = np.flatnonzero(ma & mb)
        if members.size < config.rule_min_support:
            continue
        tested.append(((a, b), mean_test_members(x[members], members, reach)))
    p = np.array([ev.p if ev.usable else 1.0 for _, ev in tested])
    kept = benjamini_hochberg(p, config.rule_fdr) if tested else np.zeros(0, dtype=bool)
    return [Candidate(when, ev, bool(k)) for (when, ev), k in zip(tested, kept, strict=True)]


def _stats(ev: Evidence) -> dict[str, float]:
    return {
        "n": float(ev.n),
        "n_eff": round(ev.n_eff, 1),
        "mean_bps": round(ev.mean * 1e4, 4),
        "t": round(ev.t, 4),
        "p": float(f"{ev.p:.6g}"),
    }


def _describe(when: Sequence[Atom]) -> str:
    return " and ".join(f"{f}={v}" for f, v in when)


def learn_rules(
    enriched: Enriched, current: Sequence[Rule], config: LearningConfig, now_ms: int
) -> tuple[list[Change], list[Candidate]]:
    """Propose ``rules[<id>]`` changes: new and renewed rules (new value), removals (new None).

    Out: the changes and every candidate tested (for the rules report).
    """
    candidates = rule_candidates(enriched, config)
    ttl_ms = duration_seconds(config.evidence_ttl) * 1000
    expires = rfc3339_ms(now_ms + ttl_ms)
    label = enriched.labels[enriched.eval_horizon_s]
    existing = {r.id: r for r in current}
    proposed: dict[str, Rule] = {}
    for c in sorted((c for c in candidates if c.kept), key=lambda c: (-abs(c.evidence.t), rule_id(c.when))):
        rid = rule_id(c.when)
        old = existing.get(rid)
        proposed[rid] = Rule(
            id=rid,
            when=dict(c.when),
            effect="avoid" if c.evidence.mean < 0 else "prefer",
            stats=_stats(c.evidence),
            since=old.since if old is not None else rfc3339_ms(now_ms),
            expires_at=expires,
        )
    for rid, rule in existing.items():  # not found again: kept until it expires
        if rid not in proposed and rfc3339_ms(now_ms) < rule.expires_at:
            proposed[rid] = rule
    strongest = sorted(proposed.values(), key=lambda r: (-abs(r.stats.get("t", 0.0)), r.id))[: config.max_rules]
    keep = {r.id: r for r in strongest}
    changes: list[Change] = []
    for rid in sorted(set(existing) | set(keep)):
        old_rule, new_rule = existing.get(rid), keep.get(rid)
        old_json: JsonValue = None if old_rule is None else old_rule.model_dump(mode="json")
        new_json: JsonValue = None if new_rule is None else new_rule.model_dump(mode="json")
        if old_json == new_json:
            continue
        shown = new_rule or old_rule
        assert shown is not None
        what = _describe(list(shown.when.items()))
        s = shown.stats
        if new_rule is None:
            why = "expired (no significant evidence since)" if rid not in proposed else "beyond max_rules"
            reason = f"rule {what}: {why}: removed"
        else:
            verb = "renewed" if old_rule is not None else "new"
            reason = (
                f"rule {what}: {int(s['n'])} signals at {label} average {s['mean_bps']:+.1f} bps after fees "
                f"(t={s['t']:.1f}, kept by Benjamini-Hochberg at {config.rule_fdr}): {new_rule.effect}, {verb}"
            )
        changes.append(Change(f"rules[{rid}]", old_json, new_json, reason, make_stats(shown.stats)))
    return changes, candidates


def rules_report(
    candidates: Sequence[Candidate], rules: Sequence[Rule], config: LearningConfig
) -> list[dict[str, JsonValue]]:
    """One row per candidate tested, kept first then by p: conditions, n, EV, t, p, kept, and why not."""
    in_document = {r.id for r in rules}
    rows: list[dict[str, JsonValue]] = []
    for c in sorted(candidates, key=lambda c: (not c.kept, c.evidence.p, rule_id(c.when))):
        rid = rule_id(c.when)
        ev = c.evidence
        if rid in in_document:
            why = None
        elif c.kept:
            why = f"beyond max_rules ({config.max_rules})"
        elif not ev.usable:
            why = f"no evidence ({ev.degenerate})"
        else:
            why = f"not significant at false discovery rate {config.rule_fdr} (p={ev.p:.3g})"
        rows.append(
            {
                "id": rid,
                "when": {f: v for f, v in c.when},
                "n": ev.n,
                "ev_bps": make_stats({"v": ev.mean * 1e4})["v"],
                "t": make_stats({"v": ev.t})["v"],
                "p": make_stats({"v": ev.p})["v"],
                "kept": rid in in_document,
                "rejected_because": why,
            }
        )
    return rows
