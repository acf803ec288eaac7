"""Grouping by string keys without pandas' groupby: dense codes, then ``np.bincount`` per statistic.

pandas groups string columns row by row through its string array; learners group a million
signals by a handful of symbols, strategies or gates, which a factorize of the keys and integer
arithmetic do in a fraction of the time, with the same result (groups in sorted key order, rows
with a missing key left out as ``groupby(dropna=True)`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.learn.stats import FloatArray, IntArray

DENSE_LIMIT = 1 << 24  # key combinations counted with one bincount; beyond, np.unique


@dataclass(frozen=True, eq=False)
class Groups:
    """``codes[i]``: the group of row i (-1: a key is missing); ``keys[j]``: the key values of group j."""

    codes: IntArray
    keys: list[tuple[str, ...]]

    @property
    def size(self) -> int:
        return len(self.keys)

    def count(self, mask: np.ndarray | None = None) -> IntArray:
        """Rows per group (only rows where ``mask`` holds, when given)."""
        codes = self.codes if mask is None else np.where(mask, self.codes, -1)
        return np.bincount(codes[codes >= 0], minlength=self.size).astype(np.int64)

    def sum(self, values: FloatArray, mask: np.ndarray | None = None) -> FloatArray:
        """Sum of ``values`` per group (only rows where ``mask`` holds, when given)."""
        keep = self.codes >= 0 if mask is None else (self.codes >= 0) & mask
        return np.bincount(self.codes[keep], weights=values[keep], minlength=self.size).astype(np.float64)

    def column(self, position: int) -> list[str]:
        """The ``position``-th key of every group, in group order."""
        return [k[position] for k in self.keys]


def group_by(*keys: Sequence[object] | np.ndarray | pd.Series) -> Groups:
    """Groups of the rows by the tuple of ``keys`` (equal-length columns), numbered in sorted key order."""
    n = len(keys[0]) if keys else 0
    combined = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    uniques: list[list[str]] = []
    span = 1
    for key in keys:
        values = key.to_numpy(dtype=object) if isinstance(key, pd.Series) else np.asarray(key, dtype=object)
        codes, distinct = pd.factorize(values, sort=True)
        missing |= codes < 0
        combined = combined * max(len(distinct), 1) + np.maximum(codes, 0)
        uniques.append([str(v) for v in distinct])
        span *= max(len(distinct), 1)
    present = combined[~missing]
    if span <= DENSE_LIMIT:
        seen = np.flatnonzero(np.bincount(present, minlength=span))
        dense = np.full(span, -1, dtype=np.int64)
        dense[seen] = np.arange(seen.size, dtype=np.int64)
        inverse = dense[present]
    else:
        seen, inverse = np.unique(present, return_inverse=True)
    codes_out = np.full(n, -1, dtype=np.int64)
    codes_out[~missing] = inverse
    tuples: list[tuple[str, ...]] = []
    for value in seen.tolist():
        parts: list[str] = []
        for names in reversed(uniques):
            value, at = divmod(value, max(len(names), 1))
            parts.append(names[at])
        tuples.append(tuple(reversed(parts)))
    return Groups(codes_out, tuples)
