"""Guardrails every learned value passes through: step caps, bounds, minimum evidence, floors.

The learners compute targets; only these functions turn a target into a new value, so the
rules below hold for every change a cycle proposes:

- a weight or multiplier moves at most ``max_step`` relative to its current value per cycle;
- weights stay inside ``weight_bounds``, multipliers inside ``MULTIPLIER_BOUNDS``;
- a value whose target is within 0.5% (relative) or 1e-3 (absolute) of it does not move, so
  a cycle re-run on unchanged data converges and then proposes nothing;
- a learner without ``minimum`` samples or without |t| >= ``min_t`` leaves its value in place;
- allocation fractions are >= the exploration floor and each dict sums to 1.
"""

from __future__ import annotations

import math

from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections

DIGITS = 6
MULTIPLIER_BOUNDS = (0.25, 3.0)
CONVERGED_RELATIVE = 0.005
CONVERGED_ABSOLUTE = 1e-3
FLOOR_CAP = 0.05


def enough(n: int, minimum: int) -> bool:
    """True when a sample of ``n`` meets the minimum."""
    return n >= minimum


def significant(t: float, min_t: float) -> bool:
    """True when |t| reaches the configured significance."""
    return math.isfinite(t) and abs(t) >= min_t


def converged(current: float, target: float) -> bool:
    """True when ``target`` is too close to ``current`` to be worth a change."""
    gap = abs(target - current)
    return gap < CONVERGED_ABSOLUTE or gap < CONVERGED_RELATIVE * abs(current)


def _grid_floor(value: float) -> float:
    return float(math.floor(value * 10**DIGITS) / 10**DIGITS)


def _grid_ceil(value: float) -> float:
    return float(math.ceil(value * 10**DIGITS) / 10**DIGITS)


def relative_step(current: float, target: float, max_step: float, bounds: tuple[float, float]) -> float:
    """Move ``current`` toward ``target`` by at most ``max_step`` relative, inside ``bounds``.

    The result lies on a 1e-6 grid and never overshoots the cap after rounding.
    """
    low = max(bounds[0], current * (1.0 - max_step))
    high = min(bounds[1], current * (1.0 + max_step))
    low_r, high_r = _grid_ceil(low), _grid_floor(high)
    if low_r > high_r:  # current outside bounds: go to the nearest bound
        return _grid_ceil(bounds[0]) if current < bounds[0] else _grid_floor(bounds[1])
    return round(min(max(target, low_r), high_r), DIGITS)


def absolute_step(current: float, target: float, max_abs: float, digits: int = DIGITS) -> float:
    """Move ``current`` toward ``target`` by at most ``max_abs`` (for thresholds that can be 0)."""
    moved = current + max(-max_abs, min(max_abs, target - current))
    return round(moved, digits)


def exploration_floor(groups: int) -> float:
    """Smallest fraction any strategy or symbol keeps: min(5%, 1 / (2 * groups))."""
    if groups <= 0:
        return 0.0
    return min(FLOOR_CAP, 1.0 / (2.0 * groups))


def normalise(fractions: dict[str, float]) -> dict[str, float]:
    """Fractions rounded to 1e-6 that sum to 1: the largest (ties: first name) absorbs the residual."""
    if not fractions:
        return {}
    names = sorted(fractions)
    total = math.fsum(max(fractions[n], 0.0) for n in names)
    if total <= 0.0:
        scaled = {n: 1.0 / len(names) for n in names}
    else:
        scaled = {n: max(fractions[n], 0.0) / total for n in names}
    rounded = {n: round(scaled[n], DIGITS) for n in names}
    largest = max(names, key=lambda n: rounded[n])  # max keeps the first of equals
    rounded[largest] = 1.0 - math.fsum(v for n, v in rounded.items() if n != largest)
    return {n: rounded[n] for n in names}


def allocation_step(current: dict[str, float], target: dict[str, float], max_step: float) -> dict[str, float]:
    """Move a fraction dict toward ``target`` (same keys, both summing to 1 above the floor).

    One common factor lambda moves every fraction, chosen so no fraction changes by more than
    ``max_step`` relative; a convex combination keeps the sum at 1 and every fraction above the
    floor both dicts respect. Fractions are rounded to 1e-6; the rounding residual (a few 1e-6 at
    most) goes to the fraction with the most room left under its cap, so no cap is overshot.
    """
    names = sorted(target)
    worst = max((abs(target[n] - current[n]) / current[n] for n in names if current[n] > 0), default=0.0)
    lam = 1.0 if worst <= max_step else max_step / worst
    # Shave a hair so rounding to the grid cannot push a fraction past its cap.
    lam = lam if lam >= 1.0 else lam * (1.0 - 1e-4)
    rounded = {n: round(current[n] + lam * (target[n] - current[n]), DIGITS) for n in names}
    residual = 1.0 - math.fsum(rounded.values())
    room = {n: max_step * current[n] - abs(rounded[n] + residual - current[n]) for n in names}
    pick = max(names, key=lambda n: room[n])  # max keeps the first of equals
    rounded[pick] = 1.0 - math.fsum(v for n, v in rounded.items() if n != pick)
    return rounded


def check_sections(old: ParamSections, new: ParamSections, config: LearningConfig) -> list[str]:
    """Every guardrail a cycle's result breaks, as sentences (empty when all hold)."""
    problems: list[str] = []
    low, high = config.weight_bounds
    tolerance = 1e-9
    for name, weight in new.weights.items():
        before = old.weights.get(name)
        if not (low - tolerance <= weight <= high + tolerance) and weight != before:
            problems.append(f"weights.{name}={weight} outside {config.weight_bounds}")
        if before is not None and abs(weight - before) > config.max_step * before + tolerance:
            problems.append(f"weights.{name} moved {before} -> {weight}, more than max_step")
    if len(old.sizing.buckets) == len(new.sizing.buckets):
        for i, (a, b) in enumerate(zip(old.sizing.buckets, new.sizing.buckets, strict=True)):
            if abs(b.multiplier - a.multiplier) > config.max_step * a.multiplier + tolerance:
                problems.append(f"sizing.buckets[{i}].multiplier moved more than max_step")
    for label, fractions in (("strategies", new.allocation.strategies), ("symbols", new.allocation.symbols)):
        if fractions and abs(math.fsum(fractions.values()) - 1.0) > 1e-9:
            problems.append(f"allocation.{label} sums to {math.fsum(fractions.values())}")
    return problems
