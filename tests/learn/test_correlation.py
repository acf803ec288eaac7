"""Component correlations against numpy on a known construction."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.learn.correlation import correlation_report, correlations, pearson
from core.learn.enrich import resolve_and_enrich, ret_col
from tests.learn.hourly import config, hourly_market


def test_correlations_match_numpy_on_signals_carrying_both() -> None:
    m = hourly_market(11)
    rng = np.random.default_rng(3)
    comps = m.inputs.components.copy()
    comps["copy"] = comps["ofi"] + 0.3 * rng.normal(size=len(comps))
    comps = comps[sorted(comps.columns)]
    comps.loc[::5, "ofi"] = 0.0  # not carried there
    cfg = config()
    enriched, _ = resolve_and_enrich(replace(m.inputs, components=comps), cfg, m.now_ms, 3600)
    rows = {(r["component_a"], r["component_b"]): r for r in correlation_report(correlations(enriched))}
    assert set(rows) == {("copy", "momentum"), ("copy", "ofi"), ("momentum", "ofi")}
    a, b = enriched.components["copy"].to_numpy(), enriched.components["ofi"].to_numpy()
    both = b != 0.0
    row = rows[("copy", "ofi")]
    assert row["n"] == int(both.sum()) < len(a)
    assert abs(float(row["score_corr"]) - np.corrcoef(a[both], b[both])[0, 1]) < 1e-6  # type: ignore[arg-type]
    assert float(row["score_corr"]) > 0.9 and abs(float(rows[("momentum", "ofi")]["score_corr"])) < 0.1  # type: ignore[arg-type]
    ret = enriched.signals[ret_col(enriched.eval_horizon_s)].to_numpy()
    ok = both & np.isfinite(ret)
    expected = np.corrcoef(np.sign(a[ok]) * ret[ok], np.sign(b[ok]) * ret[ok])[0, 1]
    assert row["n_returns"] == int(ok.sum()) and abs(float(row["return_corr"]) - expected) < 1e-6  # type: ignore[arg-type]


def test_pearson_is_none_when_not_measurable() -> None:
    assert pearson(np.array([1.0, 2.0]), np.array([1.0, 3.0])) is None
    assert pearson(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) is None
