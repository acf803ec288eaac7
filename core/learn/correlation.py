"""Component correlations: the report behind /reports/correlation, and what redundancy reads.

Per pair of components (a < b by name), over the signals in the lookback carrying both (finite,
non-zero scores): n and the Pearson correlation of their scores; over those with an outcome at the
evaluation horizon: n_returns and the correlation of their aligned returns sign(score) x return (how
often following one is following the other). None where fewer than 3 observations or a constant side.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from core.learn.enrich import Enriched, ret_col
from core.learn.proposal import JsonValue, jsonable
from core.learn.stats import FloatArray

Rows = list[dict[str, JsonValue]]


@dataclass(frozen=True)
class PairCorrelation:
    """Two components' score and aligned-return correlations (None: not measurable)."""

    a: str
    b: str
    n: int
    score_corr: float | None
    n_returns: int
    return_corr: float | None


def pearson(x: FloatArray, y: FloatArray) -> float | None:
    """Pearson correlation, or None for fewer than 3 pairs or a constant side."""
    if x.size < 3:
        return None
    xc, yc = x - x.mean(), y - y.mean()
    sxx, syy = float(xc @ xc), float(yc @ yc)
    if not (sxx > 0.0 and syy > 0.0):
        return None
    return float(np.clip((xc @ yc) / np.sqrt(sxx * syy), -1.0, 1.0))


def correlations(enriched: Enriched) -> list[PairCorrelation]:
    """Every pair of components (sorted by name): score and aligned-return correlations with their n."""
    names = sorted(str(c) for c in enriched.components.columns)
    ret = enriched.signals[ret_col(enriched.eval_horizon_s)].to_numpy(dtype=np.float64)
    scores = {c: enriched.components[c].to_numpy(dtype=np.float64) for c in names}
    carried = {c: np.isfinite(s) & (s != 0.0) for c, s in scores.items()}
    out: list[PairCorrelation] = []
    for a, b in combinations(names, 2):
        both = carried[a] & carried[b]
        sa, sb = scores[a][both], scores[b][both]
        ok = np.isfinite(ret[both])
        r = ret[both][ok]
        out.append(
            PairCorrelation(
                a,
                b,
                int(both.sum()),
                pearson(sa, sb),
                int(ok.sum()),
                pearson(np.sign(sa[ok]) * r, np.sign(sb[ok]) * r),
            )
        )
    return out


def correlation_report(pairs: list[PairCorrelation]) -> Rows:
    """JSON rows: component_a, component_b, n, score_corr, n_returns, return_corr."""
    return [
        {
            "component_a": p.a,
            "component_b": p.b,
            "n": p.n,
            "score_corr": jsonable(p.score_corr),
            "n_returns": p.n_returns,
            "return_corr": jsonable(p.return_corr),
        }
        for p in pairs
    ]
