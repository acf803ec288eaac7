"""The learning cycle: resolve outcomes, enrich, run the learners, apply guardrails, propose.

``continuous`` runs weights (redundant components capped: core/learn/redundancy.py), blocked combos,
the fee gate, the conviction gate and sizing (in that order: see core/learn/attribution.py);
``comprehensive`` adds allocation, hold time, direction routing, regime weights, daily rules and the
reports (counterfactual per gate, missed
opportunities, per component x horizon attribution, combos).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from core.learn.allocation import allocation_after, learn_allocation
from core.learn.attribution import explained_by_combos_and_fee, explained_by_conviction, residual_trades
from core.learn.combos import combo_key, learn_combos
from core.learn.correlation import correlation_report, correlations
from core.learn.enrich import resolve_and_enrich
from core.learn.fee import learn_fee_gate
from core.learn.frames import CycleInputs
from core.learn.gates import learn_conviction_gate
from core.learn.guardrails import check_sections
from core.learn.holdtime import learn_hold_time
from core.learn.outcomes import Resolution, symbols_without_marks
from core.learn.proposal import Change, Proposal, jsonable
from core.learn.redundancy import apply_redundancy
from core.learn.regimes import learn_regime_weights
from core.learn.reports import all_reports
from core.learn.routing import learn_routing
from core.learn.rules import Candidate, learn_rules, rules_report
from core.learn.sizing import learn_sizing
from core.learn.slices import slice_stats, slices_report
from core.learn.weights import component_outcome_counts, learn_weights
from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.params import BlockedCombo, HoldPolicy, ParamSections, Rule

CycleKind = Literal["continuous", "comprehensive"]

# Evidence clocks (facts["evidence"] paths) of the learners only comprehensive cycles run.
COMPREHENSIVE_CLOCKS = ("allocation.", "direction_routing.", "weights_by_regime.")


class GuardrailError(RuntimeError):
    """A learner produced a change the guardrails forbid (a bug: the cycle fails instead of applying it)."""


def run_cycle(
    inputs: CycleInputs,
    current: ParamSections,
    config: LearningConfig,
    kind: CycleKind,
    now_ms: int,
    resolution: Resolution | None = None,
    evidence: Mapping[str, int] | None = None,
) -> Proposal:
    """Run one cycle.

    In: the bot's frames (see frames.py), its current sections, its learning config, the kind, and
    now = the bot's watermark in epoch ms (lookback counts back from it; no clock is read);
    optionally the cycle's first step already done (``enrich.resolve_pending`` on the same inputs), and
    the evidence clocks the previous cycle left (its ``facts["evidence"]``: value path -> event time, ms,
    of the last significant evidence for it; the service carries them from cycle to cycle).
    Out: a ``Proposal`` with the changes, the sections with every change applied, the input counts,
    the outcomes newly decided (for storage to persist) and, for comprehensive cycles, the reports.
    Deterministic: the same inputs and sections give the same proposal.
    """
    inputs.validate()
    inputs = inputs.as_of(now_ms)  # events after the watermark never affect a cycle
    enriched, resolution = resolve_and_enrich(inputs, config, now_ms, current.hold_time.default.target_s, resolution)
    seen = sorted(set(current.weights) | set(inputs.component_names()))

    changes: list[Change] = []
    weight_changes, weight_stats, clocks = learn_weights(enriched, current, config, seen, evidence)
    # Components that say the same thing are paid once (core/learn/redundancy.py).
    pairs = correlations(enriched)
    weight_changes = apply_redundancy(enriched, current, config, weight_changes, pairs)
    changes += weight_changes
    # Trade learners in attribution order (core/learn/attribution.py): each later one sees only the
    # trades the earlier ones' changes do not already explain, so one loss moves one thing.
    ttl_ms = duration_seconds(config.evidence_ttl) * 1000
    combo_changes, combos = learn_combos(enriched, current.blocked_combos, config, now_ms)
    changes += combo_changes
    after_combos = apply_changes(current, combo_changes)
    unexplained = residual_trades(enriched.trades, explained_by_combos_and_fee(enriched.trades, after_combos))
    fee_changes = learn_fee_gate(
        replace(enriched, trades=unexplained),
        current.gates.fee.min_expected_edge_bps,
        config.combo_min_trades,
        config.min_outcomes,
        config.min_t,
        config.max_step,
    )
    changes += fee_changes
    after_fee = apply_changes(after_combos, fee_changes)
    residual = replace(
        enriched, trades=residual_trades(enriched.trades, explained_by_combos_and_fee(enriched.trades, after_fee))
    )
    gate_changes = learn_conviction_gate(
        residual,
        current.gates.conviction.min_conviction,
        config.conviction_buckets,
        config.combo_min_trades,
        config.min_outcomes,
        config.min_t,
    )
    changes += gate_changes
    sizing_changes, sizing_clocks = learn_sizing(
        residual,
        current.sizing.buckets,
        config.combo_min_trades,
        config.min_t,
        config.max_step,
        evidence=evidence,
        evidence_ttl_ms=ttl_ms,
    )
    changes += sizing_changes
    clocks |= sizing_clocks
    reports = {}
    candidates: list[Candidate] = []
    if kind == "comprehensive":
        # Allocation also leaves out the trades the conviction gate now keeps out.
        after_gate = apply_changes(after_fee, gate_changes)
        explained = explained_by_conviction(residual.trades, after_gate)
        alloc_changes, alloc_clocks = learn_allocation(
            replace(residual, trades=residual_trades(residual.trades, explained)),
            current.allocation,
            config.combo_min_trades,
            config.max_step,
            config.min_t,
            evidence=evidence,
            evidence_ttl_ms=ttl_ms,
        )
        changes += alloc_changes
        clocks |= alloc_clocks
        changes += learn_hold_time(enriched, current.hold_time, config.min_outcomes, config.min_t)
        route_changes, route_clocks, _ = learn_routing(enriched, current.direction_routing, config, now_ms, evidence)
        changes += route_changes
        regime_changes, regime_clocks, _ = learn_regime_weights(enriched, current, config, now_ms, evidence)
        changes += regime_changes
        clocks |= route_clocks | regime_clocks
        rule_changes, candidates = learn_rules(enriched, current.rules, config, now_ms)
        changes += rule_changes
    else:
        # Continuous cycles run none of the comprehensive learners: their clocks carry over unchanged
        # (else the next comprehensive cycle would restart them and evidence would never expire).
        clocks |= {k: v for k, v in (evidence or {}).items() if k.startswith(COMPREHENSIVE_CLOCKS)}

    sections = apply_changes(current, changes)
    problems = check_sections(current, sections, config)
    if problems:
        raise GuardrailError("; ".join(problems))
    if kind == "comprehensive":
        reports = all_reports(enriched, sections, config, weight_stats, combos)
        reports["rules"] = rules_report(candidates, sections.rules, config)
        reports["slices"] = slices_report(slice_stats(enriched, sections, config), config)
        reports["correlation"] = correlation_report(pairs)

    sig = enriched.signals
    counts = {
        "signals": len(sig),
        "signals_total": len(inputs.signals),
        "blocked_signals": int(sig["blocked"].sum()),
        "trades": len(enriched.trades),
        "marks_read": len(inputs.prices),  # storage reads only the marks pending pairs can use
        "outcomes": enriched.outcomes_resolved,
        "gaps": enriched.outcomes_gap,
        "pending": resolution.pending,
        "new_outcomes": len(resolution.outcomes),
        "components": len(seen),
    }
    return Proposal(
        kind=kind,
        now_ms=now_ms,
        changes=changes,
        sections=sections,
        inputs=counts,
        reports=reports,
        new_outcomes=resolution.outcomes,
        pending=resolution.pending,
        facts={
            "component_outcomes": jsonable(component_outcome_counts(weight_stats)),
            "symbols_without_marks": jsonable(symbols_without_marks(inputs.signals, inputs.prices)),
            "outcomes_pending": resolution.pending,
            "evidence": jsonable(dict(sorted(clocks.items()))),
        },
    )


def apply_changes(current: ParamSections, changes: list[Change]) -> ParamSections:
    """``current`` with every change applied (paths as in DESIGN.md: ``weights.ofi``, ``sizing.buckets[2]...``)."""
    if not changes:
        return current
    weights = dict(current.weights)
    horizons = dict(current.signal_horizons)
    gates = current.gates.model_copy(deep=True)
    buckets = [b.model_copy() for b in current.sizing.buckets]
    combos = {combo_key(b.symbol, b.direction): b for b in current.blocked_combos}
    hold = current.hold_time.model_copy(deep=True)
    routing = dict(current.direction_routing)
    rules = {r.id: r for r in current.rules}
    by_regime = {regime: dict(w) for regime, w in current.weights_by_regime.items()}
    alloc_changes: list[Change] = []
    for c in changes:
        head, _, rest = c.path.partition(".")
        if head == "weights" and isinstance(c.new, int | float):
            weights[rest] = float(c.new)
        elif head == "signal_horizons" and isinstance(c.new, str):
            horizons[rest] = c.new
        elif c.path == "gates.conviction.min_conviction" and isinstance(c.new, int | float):
            gates.conviction.min_conviction = float(c.new)
        elif c.path == "gates.fee.min_expected_edge_bps" and isinstance(c.new, int | float):
            gates.fee.min_expected_edge_bps = float(c.new)
        elif c.path.startswith("sizing.buckets[") and isinstance(c.new, int | float):
            index = int(c.path[len("sizing.buckets[") : c.path.index("]")])
            buckets[index] = buckets[index].model_copy(update={"multiplier": float(c.new)})
        elif c.path.startswith("blocked_combos["):
            key = c.path[len("blocked_combos[") : -1]
            if c.new is None:
                combos.pop(key, None)
            else:
                combos[key] = BlockedCombo.model_validate(c.new)
        elif head == "allocation":
            alloc_changes.append(c)
        elif c.path.startswith("hold_time.by_strategy."):
            name = c.path[len("hold_time.by_strategy.") :]
            hold.by_strategy[name] = HoldPolicy.model_validate(c.new)
            hold.by_strategy = dict(sorted(hold.by_strategy.items()))
        elif c.path.startswith("rules["):
            key = c.path[len("rules[") : -1]
            if c.new is None:
                rules.pop(key, None)
            else:
                rules[key] = Rule.model_validate(c.new)
        elif head == "weights_by_regime":
            regime, _, component = rest.partition(".")
            if isinstance(c.new, int | float):
                by_regime.setdefault(regime, {})[component] = float(c.new)
            else:
                by_regime.get(regime, {}).pop(component, None)
        elif head == "direction_routing":
            if c.new is None:
                routing.pop(rest, None)
            else:
                routing[rest] = "long_only" if c.new == "long_only" else "short_only"
        else:
            raise ValueError(f"cannot apply change at {c.path!r}")
    return current.model_copy(
        update={
            "weights": dict(sorted(weights.items())),
            "signal_horizons": dict(sorted(horizons.items())),
            "gates": gates,
            "sizing": current.sizing.model_copy(update={"buckets": buckets}),
            "blocked_combos": [combos[k] for k in sorted(combos)],
            "allocation": allocation_after(current.allocation, alloc_changes),
            "hold_time": hold,
            "direction_routing": dict(sorted(routing.items())),
            "weights_by_regime": {r: dict(sorted(w.items())) for r, w in sorted(by_regime.items()) if w},
            "rules": sorted(rules.values(), key=lambda r: (-abs(r.stats.get("t", 0.0)), r.id)),
        }
    )
