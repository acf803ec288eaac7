"""The O(n) Newey-West variance equals the autocovariance formula; resolution ignores mark order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.outcomes import resolve_outcomes
from tests.learn.markets import T0, market
from tests.learn.old_t import autocovariances, bartlett_long_run_variance, newey_west_t


def test_window_sum_variance_equals_the_bartlett_autocovariance_sum() -> None:
    rng = np.random.default_rng(5)
    for n, lag in [(2, 1), (5, 4), (10, 3), (10, 9), (10, 15), (300, 24), (300, 299), (300, 500)]:
        x = np.cumsum(rng.normal(size=n))
        used = min(lag, n - 1)
        gammas = autocovariances(x, used)
        weights = 1.0 - np.arange(1, used + 1) / (lag + 1.0)
        reference = gammas[0] + 2.0 * float(np.dot(weights, gammas[1:]))
        gamma0, var = bartlett_long_run_variance(x, lag)
        assert np.isclose(gamma0, gammas[0], rtol=1e-12)
        assert np.isclose(var, reference, rtol=1e-10, atol=1e-12), (n, lag)
    x = rng.normal(size=50)
    assert newey_west_t(x, 0) == x.mean() / np.sqrt(x.var() / x.size)


def test_resolution_does_not_depend_on_the_order_of_marks() -> None:
    m = market(seed=4, n_signals=400)
    prices = m.inputs.prices
    shuffled = prices.sample(frac=1.0, random_state=1).reset_index(drop=True)
    horizons = [60, 300, 900]
    a = resolve_outcomes(m.inputs.signals, prices, horizons, m.now_ms).outcomes
    b = resolve_outcomes(m.inputs.signals, shuffled, horizons, m.now_ms).outcomes
    pd.testing.assert_frame_equal(a, b)
    assert (a["status"] == "resolved").sum() > 0 and int(a["mark_ts"].min()) >= T0
