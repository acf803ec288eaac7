"""Array types and the shrunk profit factor the weight learners share.

Every test of significance lives in core/learn/significance.py; nothing here computes a t.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def shrunk_profit_factor(gains: float, losses: float, n: int, pseudo: int) -> float:
    """Profit factor (gains / losses) shrunk toward 1 with ``pseudo`` neutral pseudo-outcomes.

    Each pseudo-outcome has the sample's mean absolute size a = (gains + losses) / n and the
    pseudo-outcomes split evenly between gains and losses, so
    PF* = (gains + k) / (losses + k) with k = pseudo * a / 2.
    """
    if n <= 0:
        return 1.0
    k = pseudo * (gains + losses) / n / 2.0
    if losses + k <= 0.0:
        return 1.0
    return (gains + k) / (losses + k)
