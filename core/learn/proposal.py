"""What a cycle returns: changes with reasons and numbers, the new sections, the inputs it read."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.learn.frames import empty_outcomes
from core.schemas.params import ParamSections

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
Stats = dict[str, JsonValue]


def jsonable(value: object, digits: int = 6) -> JsonValue:
    """Convert numpy scalars, tuples and pydantic models to JSON values; NaN/inf -> None; floats rounded."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return round(v, digits) if math.isfinite(v) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, digits) for v in value]
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"), digits)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def make_stats(values: Mapping[str, object]) -> Stats:
    """A stats dict with every value made JSON-safe (rounded floats, NaN -> None)."""
    return {str(k): jsonable(v) for k, v in values.items()}


@dataclass(frozen=True)
class Change:
    """One proposed change: dotted ``path``, ``old``/``new`` values, a trader-readable reason, the numbers."""

    path: str
    old: JsonValue
    new: JsonValue
    reason: str
    stats: Stats = field(default_factory=dict)

    def as_dict(self) -> dict[str, JsonValue]:
        """JSON-safe dict of the change."""
        return {
            "path": self.path,
            "old": jsonable(self.old),
            "new": jsonable(self.new),
            "reason": self.reason,
            "stats": jsonable(self.stats),
        }


@dataclass(frozen=True, eq=False)
class Proposal:
    """A cycle's result.

    ``changes`` in a fixed order (learner order, then path); ``sections`` = current with every change
    applied; ``inputs`` = counts read; ``reports`` = signals/gates/combos/missed rows (comprehensive);
    ``new_outcomes`` = outcomes decided by this cycle (for storage to persist); ``pending`` = pairs
    still waiting for a mark; ``facts`` = what learning health reads from the cycle:
    ``component_outcomes`` (resolved outcomes per component at its best-covered horizon),
    ``symbols_without_marks`` (symbol -> signals) and ``outcomes_pending``.
    """

    kind: str
    now_ms: int
    changes: list[Change]
    sections: ParamSections
    inputs: dict[str, int]
    reports: dict[str, list[dict[str, JsonValue]]] = field(default_factory=dict)
    new_outcomes: pd.DataFrame = field(default_factory=empty_outcomes)
    pending: int = 0
    facts: dict[str, JsonValue] = field(default_factory=dict)

    def changes_as_dicts(self) -> list[dict[str, JsonValue]]:
        """The changes as JSON-safe dicts."""
        return [c.as_dict() for c in self.changes]

    def to_dict(self) -> dict[str, JsonValue]:
        """JSON-safe view of everything but the outcomes frame."""
        return {
            "kind": self.kind,
            "now_ms": self.now_ms,
            "changes": list(self.changes_as_dicts()),
            "sections": jsonable(self.sections),
            "inputs": jsonable(self.inputs),
            "reports": jsonable(self.reports),
            "facts": jsonable(self.facts),
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, no NaN)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)


def alters_behaviour(current: ParamSections, proposed: ParamSections) -> bool:
    """Whether ``proposed`` changes anything a bot would do.

    A component that enters ``weights`` at the default weight changes nothing (an unlisted component already
    weighs ``default_weight``), nor does the horizon noted beside it; such a proposal is recorded on its
    cycle but makes no version.
    """
    entering = {
        name
        for name, weight in proposed.weights.items()
        if name not in current.weights and weight == proposed.default_weight == current.default_weight
    }
    new = proposed.model_dump()
    new["weights"] = {k: v for k, v in new["weights"].items() if k not in entering}
    new["signal_horizons"] = {
        k: v for k, v in new["signal_horizons"].items() if k not in entering or k in current.signal_horizons
    }
    return bool(new != current.model_dump())
