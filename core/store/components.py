"""Signals' component scores, stored as numbers (``signals.component_ids`` / ``component_values``, ids
into ``component_names``), turned into the wide float matrix the engine reads.

Every path ends in ``matrix``: (row, component id, score) triples scattered by numpy, columns in
name order, only the components that occur. No Python code runs per signal or per score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain

import numpy as np
import orjson
from numpy.typing import NDArray


@dataclass(frozen=True)
class Components:
    """Signals' component scores: ``matrix[i, j]`` = component ``names[j]`` of the row with id ``ids[i]``."""

    ids: NDArray[np.int64]
    names: list[str]
    matrix: NDArray[np.float64]


def empty() -> Components:
    return Components(np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float64))


def _columns(codes: NDArray[np.int64], names: Mapping[int, str]) -> tuple[NDArray[np.int64], list[str]]:
    """For ids ``codes`` (>= 0): a table from id to its column (columns in name order, only ids that
    occur; every other id, and index -1, maps to one spare column past the end), and the names."""
    top = int(codes.max()) if codes.size else -1
    seen = np.zeros(top + 1, dtype=bool)
    seen[codes] = True
    used = np.flatnonzero(seen)
    used_names = [names[int(code)] for code in used]
    by_name = sorted(range(used.size), key=used_names.__getitem__)
    column = np.full(top + 2, used.size, dtype=np.int64)
    column[used[by_name]] = np.arange(used.size)
    return column, [used_names[i] for i in by_name]


def matrix(
    ids: NDArray[np.int64],
    rows: NDArray[np.int64],
    codes: NDArray[np.int64],
    values: NDArray[np.float64],
    names: Mapping[int, str],
) -> Components:
    """Signals ``ids`` and their scores as triples (``rows[k]``: index into ``ids``, ``codes[k]``: the
    ``component_names.id``, ``values[k]``: the score) -> ``Components``, columns sorted by name."""
    column, sorted_names = _columns(codes, names)
    out = np.full((ids.size, len(sorted_names)), np.nan, dtype=np.float64)
    out[rows, column[codes]] = values
    return Components(ids, sorted_names, out)


def from_padded(
    ids: NDArray[np.int64], codes: NDArray[np.int32], values: NDArray[np.float64], names: Mapping[int, str]
) -> Components:
    """Per signal ``ids[i]``, its ids and scores padded to one width (``codes[i, k] < 0`` is padding):
    one 2-D scatter, the padding landing in a spare column that is dropped."""
    column, sorted_names = _columns(codes[codes >= 0].astype(np.int64), names)
    out = np.full((ids.size, len(sorted_names) + 1), np.nan, dtype=np.float64)
    out[np.arange(ids.size)[:, None], column[codes]] = values
    return Components(ids, sorted_names, np.ascontiguousarray(out[:, :-1]))


def from_json_lists(
    ids: NDArray[np.int64], id_lists: list[str], value_lists: list[str], names: Mapping[int, str]
) -> Components:
    """Per signal ``ids[i]``, the JSON text of its id list and of its score list (SQLite)."""
    per_row = orjson.loads("[" + ",".join(id_lists) + "]")
    counts = np.fromiter(map(len, per_row), dtype=np.int64, count=len(per_row))
    total = int(counts.sum())
    codes = np.fromiter(chain.from_iterable(per_row), dtype=np.int64, count=total)
    del per_row
    scores = np.fromiter(chain.from_iterable(orjson.loads("[" + ",".join(value_lists) + "]")), np.float64, total)
    rows = np.repeat(np.arange(ids.size, dtype=np.int64), counts)
    return matrix(ids, rows, codes, scores, names)
