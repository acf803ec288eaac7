"""Params: one param document (DESIGN.md sections 7 and 11) with typed accessors.

Every accessor reads the document as served; none of them changes a number. Where the document has
nothing for the name asked, the accessor says what it falls back to.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HoldPolicy:
    """Seconds to hold a position before considering an exit (``target_s``) and before closing it (``max_s``)."""

    target_s: int
    max_s: int


def _epoch_s(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class Params:
    """An immutable view of one version of a bot's param document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document: Mapping[str, Any] = document
        self.version: int = int(document["version"])
        self.created_at: str = str(document["created_at"])
        self.expires_at: str | None = document.get("expires_at")
        self.source: str = str(document.get("source", ""))
        self._weights: Mapping[str, float] = document.get("weights") or {}
        self._default_weight = float(document.get("default_weight", 1.0))
        gates = document.get("gates") or {}
        self._min_conviction = float((gates.get("conviction") or {}).get("min_conviction", 0.0))
        self._min_edge = float((gates.get("fee") or {}).get("min_expected_edge_bps", 0.0))
        self._buckets = [
            (float(b["min_conviction"]), float(b["max_conviction"]), float(b["multiplier"]))
            for b in (document.get("sizing") or {}).get("buckets", [])
        ]
        self._blocked = {(c["symbol"], c["direction"]) for c in document.get("blocked_combos") or []}
        self._expires_s = _epoch_s(self.expires_at) if self.expires_at else None

    # --- section 7: weights -------------------------------------------------------------------------

    def weight(self, component: str) -> float:
        """``weights[component]``, or ``default_weight`` (1.0) for a component the service has not weighted."""
        return float(self._weights.get(component, self._default_weight))

    def horizon(self, component: str) -> str | None:
        """``signal_horizons[component]``: the horizon ("5m", "1h") where its EV is best; None before it is known."""
        value = (self.document.get("signal_horizons") or {}).get(component)
        return None if value is None else str(value)

    def score(self, components: Mapping[str, float]) -> float:
        """The weighted sum a signal fusion would use: ``sum(weight(name) * score)`` over the components."""
        return sum(self.weight(name) * float(value) for name, value in components.items())

    # --- section 7: gates, sizing, blocked combos ---------------------------------------------------

    @property
    def min_conviction(self) -> float:
        """``gates.conviction.min_conviction``: signals below it are not traded (blocked_by "conviction_gate")."""
        return self._min_conviction

    @property
    def min_expected_edge_bps(self) -> float:
        """``gates.fee.min_expected_edge_bps``: signals expecting less edge are not traded ("fee_gate")."""
        return self._min_edge

    def size_multiplier(self, conviction: float) -> float:
        """``sizing.buckets``: the multiplier of the bucket with ``min_conviction <= conviction < max_conviction``
        (the last bucket includes its upper edge); 1.0 when no bucket covers it."""
        for i, (low, high, multiplier) in enumerate(self._buckets):
            if low <= conviction < high or (i == len(self._buckets) - 1 and conviction == high):
                return multiplier
        return 1.0

    def is_blocked(self, symbol: str, direction: str) -> bool:
        """True when ``blocked_combos`` lists this symbol and direction ("blocked_combo")."""
        return (symbol, direction) in self._blocked

    def gate(
        self, *, symbol: str, direction: str, conviction: float, expected_edge_bps: float | None = None
    ) -> str | None:
        """The gate that blocks this signal (the ``blocked_by`` to report), or None when it may trade.

        Checked in order: ``blocked_combo``, ``conviction_gate``, ``fee_gate`` (only with an expected edge).
        """
        if self.is_blocked(symbol, direction):
            return "blocked_combo"
        if conviction < self._min_conviction:
            return "conviction_gate"
        if expected_edge_bps is not None and expected_edge_bps < self._min_edge:
            return "fee_gate"
        return None

    # --- section 7: allocation and hold time --------------------------------------------------------

    def allocation(self, *, strategy: str | None = None, symbol: str | None = None) -> float | None:
        """Capital fraction from ``allocation.strategies`` and/or ``allocation.symbols`` (each sums to 1).

        With both names, the product of the two fractions. None when the service has no fraction for a
        name asked (nothing learned yet): use your own default then.
        """
        alloc = self.document.get("allocation") or {}
        fraction = 1.0
        for table, name in (("strategies", strategy), ("symbols", symbol)):
            if name is None:
                continue
            value = (alloc.get(table) or {}).get(name)
            if value is None:
                return None
            fraction *= float(value)
        return fraction

    def hold_time(self, strategy: str | None = None) -> HoldPolicy:
        """``hold_time.by_strategy[strategy]``, else ``hold_time.default``."""
        hold = self.document.get("hold_time") or {}
        policy = (hold.get("by_strategy") or {}).get(strategy) if strategy is not None else None
        policy = policy or hold.get("default") or {"target_s": 900, "max_s": 3600}
        return HoldPolicy(int(policy["target_s"]), int(policy["max_s"]))

    # --- section 11: expiry -------------------------------------------------------------------------

    def is_stale(self, now_s: float | None = None) -> bool:
        """True past ``expires_at`` (``created_at`` + the bot's ``params_ttl``): the learning behind it is old."""
        if self._expires_s is None:
            return False
        return (time.time() if now_s is None else now_s) >= self._expires_s

    def seconds_to_expiry(self, now_s: float | None = None) -> float | None:
        if self._expires_s is None:
            return None
        return self._expires_s - (time.time() if now_s is None else now_s)

    def __repr__(self) -> str:
        return f"Params(version={self.version}, source={self.source!r}, expires_at={self.expires_at!r})"
