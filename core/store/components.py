"""Signals' component scores, stored as one JSON object per signal, parsed into a wide float matrix.

The JSON must be parsed (PostgreSQL's own parser is slower than orjson, and SQLite has no other
form): one ``orjson.loads`` per few MB of documents, then (row, component, score) triples built by
C-level iteration (``map``/``chain``/``numpy.fromiter``) and scattered into the matrix by numpy.
No Python code runs per signal or per score.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np
import orjson
from numpy.typing import NDArray

_PARSE_CHUNK = 4 << 20  # bytes of component JSON per orjson call: few dicts alive at once, memory reused


@dataclass(frozen=True)
class Components:
    """Signals' component scores: ``matrix[i, j]`` = component ``names[j]`` of the row with id ``ids[i]``."""

    ids: NDArray[np.int64]
    names: list[str]
    matrix: NDArray[np.float64]


class _ComponentParser:
    """Accumulates (row, component code, value) triples chunk by chunk; one ``orjson.loads`` per chunk."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self.ids: list[NDArray[np.int64]] = []
        self.rows: list[NDArray[np.int64]] = []
        self.codes: list[NDArray[np.int64]] = []
        self.values: list[NDArray[np.float64]] = []
        self.n = 0

    def add(self, ids: NDArray[np.int64], objects: list[dict[str, float]]) -> None:
        """``objects[i]``: {component: score} of the signal with id ``ids[i]``."""
        counts = np.fromiter(map(len, objects), dtype=np.int64, count=len(objects))
        total = int(counts.sum())
        for name in set(chain.from_iterable(objects)) - self.code_of.keys():
            self.code_of[name] = len(self.code_of)
        self.ids.append(ids)
        self.rows.append(np.repeat(np.arange(self.n, self.n + len(objects), dtype=np.int64), counts))
        keys = chain.from_iterable(objects)
        self.codes.append(np.fromiter(map(self.code_of.__getitem__, keys), dtype=np.int64, count=total))
        scores = chain.from_iterable(map(dict.values, objects))
        self.values.append(np.fromiter(scores, dtype=np.float64, count=total))
        self.n += len(objects)

    def result(self) -> Components:
        names = sorted(self.code_of)
        column = np.zeros(len(names), dtype=np.int64)
        column[[self.code_of[name] for name in names]] = np.arange(len(names))
        matrix = np.full((self.n, len(names)), np.nan, dtype=np.float64)
        for rows, codes, values in zip(self.rows, self.codes, self.values, strict=True):
            matrix[rows, column[codes]] = values
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int64)
        return Components(ids, names, matrix)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing makes millions of dicts and floats that die young,
    and the collections they trigger scan every survivor again (~25% of the parse time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_no_gc()
def parse_component_lines(data: bytes | bytearray) -> Components:
    """Lines of ``[id, {component: score}]`` (COPY text output without escapes) -> ``Components``."""
    parser = _ComponentParser()
    start, size = 0, len(data)
    while start < size:
        end = data.find(b"\n", min(start + _PARSE_CHUNK, size - 1))
        end = size - 1 if end < 0 else end
        pairs = orjson.loads(b"[" + bytes(data[start:end]).replace(b"\n", b",") + b"]")
        ids = np.fromiter(map(itemgetter(0), pairs), dtype=np.int64, count=len(pairs))
        parser.add(ids, list(map(itemgetter(1), pairs)))
        start = end + 1
    return parser.result()


@_no_gc()
def parse_component_docs(ids: NDArray[np.int64], docs: NDArray[np.object_]) -> Components:
    """``docs[i]``: the JSON object (text) of the signal with id ``ids[i]`` -> ``Components``."""
    parser = _ComponentParser()
    step = 100_000
    for lo in range(0, len(docs), step):
        parser.add(ids[lo : lo + step], orjson.loads("[" + ",".join(docs[lo : lo + step].tolist()) + "]"))
    return parser.result()
