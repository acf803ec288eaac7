"""The engine's fast joins give what the plain ones give: id lookups, grouping, row order, top-k."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.learn.counterfactual import blocked_frame, missed_report
from core.learn.cycle import run_cycle
from core.learn.enrich import resolve_and_enrich
from core.learn.groups import group_by
from core.learn.outcomes import RESOLVED, outcome_rows, resolve_outcomes
from tests.learn.test_cycle import CONFIG, noisy_bot, start


def reference_rows(signals: pd.DataFrame, outcomes: pd.DataFrame) -> np.ndarray:
    where = {sid: i for i, sid in enumerate(signals["event_id"])}
    return np.array([where.get(sid, -1) for sid in outcomes["signal_event_id"]], dtype=np.int64)


def stored_outcomes(seed: int = 21) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(signals, outcomes as resolved: horizon by horizon, each outcome's signal row)."""
    m = noisy_bot(seed)
    res = resolve_outcomes(m.inputs.signals, m.inputs.prices, CONFIG.horizon_seconds(), m.now_ms)
    return m.inputs.signals, res.outcomes, res.rows


def test_outcome_rows_in_every_order() -> None:
    signals, outcomes, rows = stored_outcomes()
    by_signal = outcomes.take(np.lexsort((outcomes["horizon_s"].to_numpy(), rows))).reset_index(drop=True)
    shuffled = outcomes.sample(frac=1.0, random_state=3).reset_index(drop=True)
    stranger = by_signal.iloc[:7].copy()
    stranger["signal_event_id"] = "not-a-signal"
    with_unknown = pd.concat([by_signal.iloc[:500], stranger, by_signal.iloc[500:]], ignore_index=True)
    tail = by_signal[by_signal["signal_event_id"] >= signals["event_id"].iloc[len(signals) // 2]]
    for frame in (outcomes, by_signal, shuffled, with_unknown, tail.reset_index(drop=True)):
        assert np.array_equal(outcome_rows(signals, frame), reference_rows(signals, frame))
    assert np.array_equal(outcome_rows(signals, outcomes), rows)
    # by_signal holds every signal in order (the no-hash path); tail a part (one lookup per signal).
    assert by_signal["signal_event_id"].drop_duplicates().tolist() == signals["event_id"].tolist()


def test_group_by_matches_pandas_groupby() -> None:
    rng = np.random.default_rng(5)
    n = 5000
    symbol = np.array(["BTC", "ETH", "SOL", None], dtype=object)[rng.integers(0, 4, n)]
    side = np.array(["long", "short"], dtype=object)[rng.integers(0, 2, n)]
    value = rng.normal(size=n)
    groups = group_by(symbol, side)
    expected = (
        pd.DataFrame({"s": symbol, "d": side, "v": value}).groupby(["s", "d"], sort=True)["v"].agg(["size", "sum"])
    )
    assert groups.keys == [tuple(k) for k in expected.index]
    assert np.array_equal(groups.count(), expected["size"].to_numpy())
    assert np.allclose(groups.sum(value), expected["sum"].to_numpy())
    assert np.all(groups.codes[pd.isna(symbol)] == -1)
    positive = value > 0
    expected_positive = [int(((symbol == s) & (side == d) & positive).sum()) for s, d in expected.index]
    assert groups.count(positive).tolist() == expected_positive


def test_storage_order_and_row_order_do_not_change_the_proposal() -> None:
    m = noisy_bot(22)
    first = run_cycle(m.inputs, start(), CONFIG, "comprehensive", m.now_ms)
    stored = first.new_outcomes
    rows = outcome_rows(m.inputs.signals, stored)
    by_signal = stored.take(np.lexsort((stored["horizon_s"].to_numpy(), rows))).reset_index(drop=True)
    expected = run_cycle(replace(m.inputs, outcomes=stored), first.sections, CONFIG, "comprehensive", m.now_ms)
    again = run_cycle(replace(m.inputs, outcomes=by_signal), first.sections, CONFIG, "comprehensive", m.now_ms)
    assert again.to_json() == expected.to_json()

    # Signals out of time order (two halves swapped at a time boundary): the engine sorts them back.
    ts = m.inputs.signals["ts"].to_numpy()
    cut = int(np.searchsorted(ts, ts[len(ts) // 2]))
    order = np.r_[cut : len(ts), 0:cut]
    swapped = replace(
        m.inputs,
        signals=m.inputs.signals.take(order).reset_index(drop=True),
        components=m.inputs.components.take(order).reset_index(drop=True),
        outcomes=by_signal,
    )
    moved = run_cycle(swapped, first.sections, CONFIG, "comprehensive", m.now_ms)
    assert moved.to_json() == expected.to_json()


def test_enriched_counts_every_outcome_given() -> None:
    m = noisy_bot(23)
    enriched, resolution = resolve_and_enrich(m.inputs, CONFIG, m.now_ms, 900)
    status = resolution.outcomes["status"]
    assert enriched.outcomes_resolved == int((status == RESOLVED).sum()) > 0
    assert enriched.outcomes_gap == int((status != RESOLVED).sum())


@pytest.mark.parametrize("top", [1, 3, 5, 50])
def test_missed_report_top_k_equals_a_full_sort(top: int) -> None:
    m = noisy_bot(24)
    enriched, _ = resolve_and_enrich(m.inputs, CONFIG, m.now_ms, 900)
    frame = blocked_frame(enriched)
    rng = np.random.default_rng(top)
    # Many exact ties, so the threshold cut has to keep every tied candidate for the id order to decide.
    frame["x"] = np.where(rng.random(len(frame)) < 0.5, np.round(rng.normal(size=len(frame)), 1), np.nan)
    full = frame[np.isfinite(frame["x"]) & (frame["x"] > 0)]
    full = full.sort_values(["x", "event_id"], ascending=[False, True], kind="stable").head(top)
    got = missed_report(enriched, top, frame=frame)
    assert [r["event_id"] for r in got] == full["event_id"].tolist()
    assert len(got) == min(top, int((frame["x"] > 0).sum()))
