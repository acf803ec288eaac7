"""Property tests of the guardrails: step caps, bounds, allocation sums and floors."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.learn.guardrails import allocation_step, exploration_floor, normalise, relative_step
from core.learn.significance import wilson

finite = st.floats(min_value=0.01, max_value=10.0, allow_nan=False)
steps = st.floats(min_value=0.01, max_value=1.0, exclude_max=True)


@settings(max_examples=300, deadline=None)
@given(current=st.floats(0.05, 5.0), target=st.floats(-10.0, 50.0), max_step=steps)
def test_relative_step_never_exceeds_the_cap_or_the_bounds(current: float, target: float, max_step: float) -> None:
    bounds = (0.05, 5.0)
    new = relative_step(current, target, max_step, bounds)
    assert abs(new / current - 1) <= max_step + 1e-9
    assert bounds[0] - 1e-12 <= new <= bounds[1] + 1e-12
    if target >= current:
        assert new >= current - 1e-6
    else:
        assert new <= current + 1e-6


@st.composite
def fraction_dicts(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, float]]:
    n = draw(st.integers(1, 12))
    names = [f"s{i}" for i in range(n)]
    floor = exploration_floor(n)
    raw_a = draw(st.lists(finite, min_size=n, max_size=n))
    raw_b = draw(st.lists(finite, min_size=n, max_size=n))

    def floored(raw: list[float]) -> dict[str, float]:
        total = sum(raw)
        return normalise({k: floor + (1 - n * floor) * v / total for k, v in zip(names, raw, strict=True)})

    return floored(raw_a), floored(raw_b)


@settings(max_examples=300, deadline=None)
@given(pair=fraction_dicts(), max_step=steps)
def test_allocation_sums_to_one_keeps_the_floor_and_the_cap(
    pair: tuple[dict[str, float], dict[str, float]], max_step: float
) -> None:
    current, target = pair
    new = allocation_step(current, target, max_step)
    assert sorted(new) == sorted(target)
    assert math.isclose(math.fsum(new.values()), 1.0, abs_tol=1e-12)
    floor = exploration_floor(len(new))
    assert min(new.values()) >= floor - 2e-6
    for k in new:
        assert abs(new[k] - current[k]) <= max_step * current[k] + 2e-6


def test_wilson_interval_known_values() -> None:
    low, high = wilson(15.0, 60.0)
    assert np.allclose([low, high], [0.1578, 0.3725], atol=1e-3)
    assert wilson(0.0, 0.0) == (0.0, 1.0)
