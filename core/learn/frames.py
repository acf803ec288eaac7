"""The input contract of the learning engine: the frames storage hands to a cycle.

All times are int64 epoch milliseconds; every frame has a default RangeIndex.

- ``signals``: event_id, ts, symbol, direction ("long"|"short"), price (>0), conviction (0..1),
  decision ("executed"|"blocked"), blocked_by (str|None), strategy (str|None),
  expected_edge_bps (float, NaN when absent), regime (str|None).
- ``components``: wide float64 frame aligned row-for-row with ``signals``, one column per
  component (sorted names), NaN where a signal lacks that component. Sign = the component's view.
- ``trades``: event_id, symbol, direction, opened_at, ts (close), entry_price, exit_price,
  quantity, pnl (net, authoritative), fees, strategy, conviction (NaN absent),
  signal_event_id (str|None), venue, regime.
- ``prices``: symbol, ts, price; unique per (symbol, ts).
- ``outcomes``: signal_event_id, horizon_s, status ("resolved"|"gap"), ret (p_h/p_0 - 1, NaN
  for gaps), mark_ts (0 for gaps), reason (None | "no_marks" | "missing_mark").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

SIGNAL_COLUMNS: dict[str, str] = {
    "event_id": "str",
    "ts": "int64",
    "symbol": "str",
    "direction": "str",
    "price": "float64",
    "conviction": "float64",
    "decision": "str",
    "blocked_by": "object",
    "strategy": "object",
    "expected_edge_bps": "float64",
    "regime": "object",
}
TRADE_COLUMNS: dict[str, str] = {
    "event_id": "str",
    "symbol": "str",
    "direction": "str",
    "opened_at": "int64",
    "ts": "int64",
    "entry_price": "float64",
    "exit_price": "float64",
    "quantity": "float64",
    "pnl": "float64",
    "fees": "float64",
    "strategy": "object",
    "conviction": "float64",
    "signal_event_id": "object",
    "venue": "object",
    "regime": "object",
}
PRICE_COLUMNS: dict[str, str] = {"symbol": "str", "ts": "int64", "price": "float64"}
OUTCOME_COLUMNS: dict[str, str] = {
    "signal_event_id": "str",
    "horizon_s": "int64",
    "status": "str",
    "ret": "float64",
    "mark_ts": "int64",
    "reason": "object",
}

# Well-known gate names (DESIGN.md section 5).
CONVICTION_GATE = "conviction_gate"
FEE_GATE = "fee_gate"
BLOCKED_COMBO = "blocked_combo"


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty frame with the given columns and dtypes."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})


def empty_signals() -> pd.DataFrame:
    """An empty ``signals`` frame."""
    return empty_frame(SIGNAL_COLUMNS)


def empty_components(length: int = 0) -> pd.DataFrame:
    """A components frame with no component columns and ``length`` rows."""
    return pd.DataFrame(index=pd.RangeIndex(length))


def empty_trades() -> pd.DataFrame:
    """An empty ``trades`` frame."""
    return empty_frame(TRADE_COLUMNS)


def empty_prices() -> pd.DataFrame:
    """An empty ``prices`` frame."""
    return empty_frame(PRICE_COLUMNS)


def empty_outcomes() -> pd.DataFrame:
    """An empty ``outcomes`` frame."""
    return empty_frame(OUTCOME_COLUMNS)


def _check_columns(frame: pd.DataFrame, columns: dict[str, str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s): {', '.join(missing)}")
    if not isinstance(frame.index, pd.RangeIndex):
        raise ValueError(f"{name} frame must have a default RangeIndex")
    for column, dtype in columns.items():
        if dtype == "int64" and frame[column].dtype != np.int64:
            raise ValueError(f"{name}.{column} must be int64 epoch milliseconds, got {frame[column].dtype}")


@dataclass(frozen=True, eq=False)
class CycleInputs:
    """Everything a cycle reads about one bot. Frames are treated as read-only."""

    signals: pd.DataFrame = field(default_factory=empty_signals)
    components: pd.DataFrame = field(default_factory=empty_components)
    trades: pd.DataFrame = field(default_factory=empty_trades)
    prices: pd.DataFrame = field(default_factory=empty_prices)
    outcomes: pd.DataFrame = field(default_factory=empty_outcomes)
    # Each stored outcome's row in ``signals`` (-1: not among them), when storage already knows it;
    # otherwise the engine looks the outcomes' signal ids up itself.
    outcome_rows: NDArray[np.int64] | None = None

    def validate(self) -> None:
        """Raise ValueError when a frame breaks the contract in a way the learners cannot absorb."""
        _check_columns(self.signals, SIGNAL_COLUMNS, "signals")
        _check_columns(self.trades, TRADE_COLUMNS, "trades")
        _check_columns(self.prices, PRICE_COLUMNS, "prices")
        _check_columns(self.outcomes, OUTCOME_COLUMNS, "outcomes")
        if len(self.components) != len(self.signals):
            raise ValueError(f"components has {len(self.components)} rows, signals {len(self.signals)}")
        if list(self.components.columns) != sorted(self.components.columns):
            raise ValueError("components columns must be in sorted order")
        if self.outcome_rows is not None and len(self.outcome_rows) != len(self.outcomes):
            raise ValueError(f"outcome_rows has {len(self.outcome_rows)} entries, outcomes {len(self.outcomes)}")
        if not self.signal_ids.is_unique:
            raise ValueError("signals.event_id must be unique")

    @cached_property
    def signal_ids(self) -> pd.Index:
        """``signals.event_id`` as an Index, built once per inputs: its hash table serves every id lookup
        (stored outcomes, trades' ``signal_event_id``) and the uniqueness check."""
        ids: pd.Index = pd.Index(self.signals["event_id"])
        return ids

    def as_of(self, now_ms: int) -> CycleInputs:
        """These inputs as known at ``now_ms`` (the watermark): signals, trades (by close ts) and marks with
        ts > now are dropped, and so are stored outcomes decided after now (a resolved outcome whose mark is
        after now; a gap whose deadline, ts + h + max(h/2, 60 s), is not strictly before now). Events after
        the watermark never affect a cycle, even when an in-process backtest hands the whole history.
        Returns ``self`` (no copy) when nothing is after now, which is what the service always hands."""
        sig_ts = self.signals["ts"].to_numpy(dtype=np.int64)
        trade_ts = self.trades["ts"].to_numpy(dtype=np.int64)
        mark_ts = self.prices["ts"].to_numpy(dtype=np.int64)
        out_mark = self.outcomes["mark_ts"].to_numpy(dtype=np.int64)
        late = any(bool(a.size) and int(a.max()) > now_ms for a in (sig_ts, trade_ts, mark_ts, out_mark))
        keep_out = out_mark <= now_ms
        gap_at = np.flatnonzero(out_mark == 0)  # gaps (mark_ts 0): decided once now passed the deadline
        if gap_at.size:
            horizon = self.outcomes["horizon_s"].to_numpy(dtype=np.int64)[gap_at]
            ids = self.outcomes["signal_event_id"].to_numpy(dtype=object)[gap_at]
            stored = self.outcome_rows
            # a plain array, not an Index, is what get_indexer looks up fastest
            found = self.signal_ids.get_indexer(ids) if stored is None else stored[gap_at]  # type: ignore[arg-type]
            rows = np.asarray(found, dtype=np.int64)
            deadline = sig_ts[np.maximum(rows, 0)] + horizon * 1000 + np.maximum(horizon * 500, 60_000)
            keep_out[gap_at] = (rows < 0) | (deadline < now_ms)
        if not late and keep_out.all():
            return self
        keep_sig = sig_ts <= now_ms
        position = np.cumsum(keep_sig) - 1  # old signal row -> new row
        new_rows: NDArray[np.int64] | None = None
        if self.outcome_rows is not None:
            old = self.outcome_rows[keep_out]
            kept = (old >= 0) & keep_sig[np.maximum(old, 0)]
            new_rows = np.where(kept, position[np.maximum(old, 0)], -1).astype(np.int64)
        return CycleInputs(
            signals=self.signals[keep_sig].reset_index(drop=True),
            components=self.components[keep_sig].reset_index(drop=True),
            trades=self.trades[trade_ts <= now_ms].reset_index(drop=True),
            prices=self.prices[mark_ts <= now_ms].reset_index(drop=True),
            outcomes=self.outcomes[keep_out].reset_index(drop=True),
            outcome_rows=new_rows,
        )

    def component_names(self) -> list[str]:
        """Component columns that carry at least one value, sorted."""
        present = self.components.notna().any(axis=0)
        return sorted(str(c) for c in present[present].index)


def rfc3339_ms(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC string with millisecond precision (no clock read)."""
    stamp = pd.Timestamp(int(ms), unit="ms", tz="UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"
