"""Outcome resolution: the window rule, gaps, pending pairs, already-stored pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.learn.outcomes import resolve_outcomes, symbols_without_marks
from tests.learn.markets import MINUTE, T0, signals_frame

H = 300  # 5m: tolerance max(150 s, 60 s) = 150 s


def one_signal(ts: int = T0, symbol: str = "AAA", decision: str = "executed") -> pd.DataFrame:
    return signals_frame(
        event_id=np.array(["s1"], dtype=object),
        ts=np.array([ts]),
        symbol=np.array([symbol], dtype=object),
        direction=np.array(["long"], dtype=object),
        price=np.array([100.0]),
        decision=np.array([decision], dtype=object),
        blocked_by=np.array([None if decision == "executed" else "fee_gate"], dtype=object),
    )


def marks(*points: tuple[str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.array([p[0] for p in points], dtype="str"),
            "ts": np.array([p[1] for p in points], dtype=np.int64),
            "price": np.array([p[2] for p in points], dtype=np.float64),
        }
    )


def test_mark_exactly_at_ts_plus_h_is_accepted() -> None:
    prices = marks(("AAA", T0 + H * 1000 - 1, 90.0), ("AAA", T0 + H * 1000, 101.0), ("AAA", T0 + H * 1000 + 5, 150.0))
    res = resolve_outcomes(one_signal(), prices, [H], watermark_ms=T0)
    row = res.outcomes.iloc[0]
    assert row["status"] == "resolved"
    assert row["ret"] == 101.0 / 100.0 - 1.0
    assert row["mark_ts"] == T0 + H * 1000
    assert row["reason"] is None
    assert res.pending == 0


def test_mark_at_the_deadline_is_accepted_and_one_after_is_not() -> None:
    deadline = T0 + H * 1000 + 150_000
    ok = resolve_outcomes(one_signal(), marks(("AAA", deadline, 102.0)), [H], watermark_ms=deadline)
    assert ok.outcomes["status"].tolist() == ["resolved"]
    late = marks(("AAA", deadline + 1, 102.0))
    before = resolve_outcomes(one_signal(), late, [H], watermark_ms=deadline)
    assert before.outcomes.empty and before.pending == 1
    after = resolve_outcomes(one_signal(), late, [H], watermark_ms=deadline + 1)
    row = after.outcomes.iloc[0]
    assert (row["status"], row["reason"], row["mark_ts"]) == ("gap", "missing_mark", 0)
    assert np.isnan(row["ret"])


def test_short_horizons_get_a_sixty_second_tolerance() -> None:
    h = 60  # max(30 s, 60 s) = 60 s
    prices = marks(("AAA", T0 + 120_000, 101.0))
    res = resolve_outcomes(one_signal(), prices, [h], watermark_ms=T0 + 10 * MINUTE)
    assert res.outcomes["status"].tolist() == ["resolved"]


def test_symbol_without_marks_is_a_gap_with_reason_no_marks() -> None:
    prices = marks(("BBB", T0, 1.0))
    res = resolve_outcomes(one_signal(symbol="ZZZ"), prices, [60, H], watermark_ms=T0 + 60 * MINUTE)
    assert res.outcomes["status"].tolist() == ["gap", "gap"]
    assert res.outcomes["reason"].tolist() == ["no_marks", "no_marks"]
    assert symbols_without_marks(one_signal(symbol="ZZZ"), prices) == {"ZZZ": 1}


def test_marks_of_another_symbol_are_never_used() -> None:
    prices = marks(("AAB", T0 + H * 1000, 200.0), ("AAA", T0 + H * 1000 + 100_000, 103.0))
    res = resolve_outcomes(one_signal(), prices, [H], watermark_ms=T0)
    assert res.outcomes["mark_ts"].tolist() == [T0 + H * 1000 + 100_000]
    assert np.isclose(res.outcomes["ret"].iloc[0], 0.03)


def test_already_stored_pairs_are_skipped_and_blocked_signals_resolve() -> None:
    signals = one_signal(decision="blocked")
    prices = marks(("AAA", T0 + 60_000, 101.0), ("AAA", T0 + H * 1000, 102.0))
    first = resolve_outcomes(signals, prices, [60, H], watermark_ms=T0 + H * 1000)
    assert first.outcomes["horizon_s"].tolist() == [60, H]
    again = resolve_outcomes(signals, prices, [60, H], watermark_ms=T0 + H * 1000, already=first.outcomes)
    assert again.outcomes.empty and again.pending == 0
    assert list(first.outcomes.columns) == ["signal_event_id", "horizon_s", "status", "ret", "mark_ts", "reason"]
    assert first.outcomes["horizon_s"].dtype == np.int64 and first.outcomes["mark_ts"].dtype == np.int64


def test_many_symbols_resolve_like_a_per_signal_reference() -> None:
    rng = np.random.default_rng(3)
    symbols = np.array(["A", "B", "C"], dtype=object)
    mark_ts = np.sort(rng.choice(np.arange(0, 600), size=300, replace=False)) * 1000 + T0
    prices = pd.DataFrame(
        {
            "symbol": pd.array(symbols[rng.integers(0, 3, size=300)], dtype="str"),
            "ts": mark_ts.astype(np.int64),
            "price": rng.uniform(90, 110, size=300),
        }
    ).drop_duplicates(["symbol", "ts"], ignore_index=True)
    n = 200
    sig = signals_frame(
        event_id=np.array([f"s{i}" for i in range(n)], dtype=object),
        ts=T0 + rng.integers(0, 500, size=n) * 1000,
        symbol=symbols[rng.integers(0, 3, size=n)],
        direction=np.full(n, "long", dtype=object),
        price=np.full(n, 100.0),
    )
    watermark = T0 + 560_000
    res = resolve_outcomes(sig, prices, [60], watermark_ms=watermark)
    got = res.outcomes.set_index("signal_event_id")
    decided = 0
    for row in sig.itertuples():  # reference implementation, one signal at a time
        window = prices[(prices["symbol"] == row.symbol) & (prices["ts"] >= row.ts + 60_000)].sort_values("ts")
        first = window.iloc[0] if len(window) else None
        if first is not None and first["ts"] <= row.ts + 120_000:
            assert got.loc[row.event_id, "status"] == "resolved"
            assert np.isclose(got.loc[row.event_id, "ret"], first["price"] / 100.0 - 1)
            decided += 1
        elif watermark > row.ts + 120_000:
            assert got.loc[row.event_id, "status"] == "gap"
            decided += 1
        else:
            assert row.event_id not in got.index
    assert decided == len(got) and res.pending == n - decided
