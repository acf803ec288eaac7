"""Leaf-by-leaf difference of two param sections, with the same paths cycles use."""

from __future__ import annotations

from core.learn.combos import combo_key
from core.learn.proposal import JsonValue, jsonable
from core.schemas.params import ParamSections

Entry = dict[str, JsonValue]


def _dicts(prefix: str, old: dict[str, object], new: dict[str, object]) -> list[Entry]:
    out: list[Entry] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            out.append({"path": f"{prefix}.{key}", "old": jsonable(a), "new": jsonable(b)})
    return out


def diff_sections(old: ParamSections, new: ParamSections) -> list[Entry]:
    """Every leaf that differs, as ``{"path", "old", "new"}`` in document order, keys sorted.

    Paths: ``default_weight``, ``weights.<c>``, ``signal_horizons.<c>``, ``gates.conviction.min_conviction``,
    ``gates.fee.min_expected_edge_bps``, ``sizing.buckets[i].<field>`` (``sizing.buckets[i]`` with a whole
    bucket when one side lacks it), ``blocked_combos[SYMBOL:direction]`` (whole entries, None when absent),
    ``allocation.strategies.<s>``, ``allocation.symbols.<s>``, ``hold_time.default.<field>`` and
    ``hold_time.by_strategy.<s>`` (whole policies), ``weights_by_regime.<regime>.<c>``,
    ``direction_routing.<symbol>`` and ``rules[<id>]`` (whole rules, None when absent).
    """
    out: list[Entry] = []
    if old.default_weight != new.default_weight:
        out.append({"path": "default_weight", "old": old.default_weight, "new": new.default_weight})
    out += _dicts("weights", dict(old.weights), dict(new.weights))
    out += _dicts("signal_horizons", dict(old.signal_horizons), dict(new.signal_horizons))
    for gate, field in (("conviction", "min_conviction"), ("fee", "min_expected_edge_bps")):
        a = getattr(getattr(old.gates, gate), field)
        b = getattr(getattr(new.gates, gate), field)
        if a != b:
            out.append({"path": f"gates.{gate}.{field}", "old": jsonable(a), "new": jsonable(b)})
    old_b, new_b = old.sizing.buckets, new.sizing.buckets
    for i in range(max(len(old_b), len(new_b))):
        if i >= len(old_b) or i >= len(new_b):
            a_b = old_b[i].model_dump(mode="json") if i < len(old_b) else None
            b_b = new_b[i].model_dump(mode="json") if i < len(new_b) else None
            out.append({"path": f"sizing.buckets[{i}]", "old": jsonable(a_b), "new": jsonable(b_b)})
            continue
        for field in ("min_conviction", "max_conviction", "multiplier"):
            a, b = getattr(old_b[i], field), getattr(new_b[i], field)
            if a != b:
                out.append({"path": f"sizing.buckets[{i}].{field}", "old": a, "new": b})
    old_c = {combo_key(c.symbol, c.direction): c.model_dump(mode="json") for c in old.blocked_combos}
    new_c = {combo_key(c.symbol, c.direction): c.model_dump(mode="json") for c in new.blocked_combos}
    for key in sorted(set(old_c) | set(new_c)):
        if old_c.get(key) != new_c.get(key):
            out.append(
                {"path": f"blocked_combos[{key}]", "old": jsonable(old_c.get(key)), "new": jsonable(new_c.get(key))}
            )
    out += _dicts("allocation.strategies", dict(old.allocation.strategies), dict(new.allocation.strategies))
    out += _dicts("allocation.symbols", dict(old.allocation.symbols), dict(new.allocation.symbols))
    for field in ("target_s", "max_s"):
        a, b = getattr(old.hold_time.default, field), getattr(new.hold_time.default, field)
        if a != b:
            out.append({"path": f"hold_time.default.{field}", "old": a, "new": b})
    old_h = {k: v.model_dump(mode="json") for k, v in old.hold_time.by_strategy.items()}
    new_h = {k: v.model_dump(mode="json") for k, v in new.hold_time.by_strategy.items()}
    out += _dicts("hold_time.by_strategy", dict(old_h), dict(new_h))
    for regime in sorted(set(old.weights_by_regime) | set(new.weights_by_regime)):
        a_w, b_w = old.weights_by_regime.get(regime, {}), new.weights_by_regime.get(regime, {})
        out += _dicts(f"weights_by_regime.{regime}", dict(a_w), dict(b_w))
    out += _dicts("direction_routing", dict(old.direction_routing), dict(new.direction_routing))
    old_r = {r.id: r.model_dump(mode="json") for r in old.rules}
    new_r = {r.id: r.model_dump(mode="json") for r in new.rules}
    for key in sorted(set(old_r) | set(new_r)):
        if old_r.get(key) != new_r.get(key):
            out.append({"path": f"rules[{key}]", "old": jsonable(old_r.get(key)), "new": jsonable(new_r.get(key))})
    return out
