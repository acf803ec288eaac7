"""Issue 11, item 10: every learner survives degenerate windows; a cycle never raises.

Hypothesis draws small windows: empty frames, trades without signals (the crash in enrich.py),
signals without marks or trades, one symbol, one conviction bucket, blocked-only signals, trades
whose signal is missing, zero-size notionals. Each is run as a continuous and a comprehensive cycle
with the default config and with an eager one (tiny minimums), so the learners' significance paths
are reached on tiny samples too. Properties: the cycle returns, its sections pass validation, and
running it again on the same inputs gives the same proposal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.learn.cycle import run_cycle
from core.learn.frames import CycleInputs, empty_components
from core.schemas.config import LearningConfig
from core.schemas.params import ParamSections, default_sections
from tests.learn.markets import MINUTE, T0, signals_frame

DEFAULT = LearningConfig()
EAGER = LearningConfig.model_validate(
    {
        "horizons": ["1m", "5m"],
        "min_outcomes": 2,
        "min_t": 0.1,
        "combo_min_trades": 1,
        "combo_max_win_rate": 0.99,
        "conviction_buckets": [0.0, 0.5, 1.0],
        "rule_min_support": 2,
    }
)

SYMBOLS = ["AAA", "BBB", "CCC"]
GATES = ["conviction_gate", "fee_gate", "blocked_combo", "correlation_throttle"]


@st.composite
def windows(draw: st.DrawFn) -> tuple[CycleInputs, int]:
    """A small random window: any frame may be empty; few symbols, components, buckets and minutes."""
    symbols = SYMBOLS[: draw(st.integers(1, 3))]
    minutes = draw(st.integers(1, 30))
    one_conviction = draw(st.booleans())  # every signal in one conviction bucket
    n_sig = draw(st.integers(0, 12))
    names = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    ts = np.sort(np.asarray(draw(st.lists(st.integers(0, minutes), min_size=n_sig, max_size=n_sig)), dtype=np.int64))
    blocked = np.asarray(draw(st.lists(st.booleans(), min_size=n_sig, max_size=n_sig)), dtype=bool)
    convictions = draw(st.lists(st.floats(0, 1), min_size=n_sig, max_size=n_sig))
    signals = signals_frame(
        event_id=np.array([f"s{i}" for i in range(n_sig)], dtype=object),
        ts=T0 + ts * MINUTE,
        symbol=np.array([draw(st.sampled_from(symbols)) for _ in range(n_sig)], dtype=object),
        direction=np.array([draw(st.sampled_from(["long", "short"])) for _ in range(n_sig)], dtype=object),
        price=np.full(n_sig, 100.0),
        conviction=np.full(n_sig, 0.6) if one_conviction else np.asarray(convictions, dtype=np.float64),
        decision=np.where(blocked, "blocked", "executed").astype(object),
        blocked_by=np.array([draw(st.sampled_from(GATES)) if b else None for b in blocked], dtype=object),
        strategy=np.array([draw(st.sampled_from([None, "momo", "rev"])) for _ in range(n_sig)], dtype=object),
        expected_edge_bps=np.asarray(
            draw(st.lists(st.one_of(st.just(float("nan")), st.floats(-50, 50)), min_size=n_sig, max_size=n_sig))
        ),
    )
    values = draw(
        st.lists(
            st.lists(st.one_of(st.just(float("nan")), st.floats(-3, 3)), min_size=len(names), max_size=len(names)),
            min_size=n_sig,
            max_size=n_sig,
        )
    )
    components = (
        pd.DataFrame(np.asarray(values, dtype=np.float64).reshape(n_sig, len(names)), columns=names)
        if n_sig
        else empty_components()
    )
    n_marks = draw(st.integers(0, 40))
    prices = pd.DataFrame(
        {
            "symbol": pd.array([symbols[i % len(symbols)] for i in range(n_marks)], dtype="str"),
            "ts": T0 + np.arange(n_marks, dtype=np.int64) // len(symbols) * MINUTE,
            "price": np.asarray(draw(st.lists(st.floats(1, 200), min_size=n_marks, max_size=n_marks))),
        }
    )
    n_tr = draw(st.integers(0, 10))
    opened = np.asarray(draw(st.lists(st.integers(0, minutes), min_size=n_tr, max_size=n_tr)), dtype=np.int64)
    held = np.asarray(draw(st.lists(st.integers(0, 90), min_size=n_tr, max_size=n_tr)), dtype=np.int64)
    links = [draw(st.sampled_from([None, "missing", *[f"s{i}" for i in range(n_sig)]])) for _ in range(n_tr)]
    trades = pd.DataFrame(
        {
            "event_id": pd.array([f"t{i}" for i in range(n_tr)], dtype="str"),
            "symbol": pd.array([draw(st.sampled_from(symbols)) for _ in range(n_tr)], dtype="str"),
            "direction": pd.array([draw(st.sampled_from(["long", "short"])) for _ in range(n_tr)], dtype="str"),
            "opened_at": T0 + opened * MINUTE,
            "ts": T0 + (opened + held) * MINUTE,
            "entry_price": np.full(n_tr, 100.0),
            "exit_price": np.full(n_tr, 101.0),
            "quantity": np.asarray(draw(st.lists(st.floats(1e-9, 10), min_size=n_tr, max_size=n_tr))),
            "pnl": np.asarray(draw(st.lists(st.floats(-100, 100), min_size=n_tr, max_size=n_tr))),
            "fees": np.full(n_tr, 0.1),
            "strategy": np.array([draw(st.sampled_from([None, "momo"])) for _ in range(n_tr)], dtype=object),
            "conviction": np.asarray(
                draw(st.lists(st.one_of(st.just(float("nan")), st.floats(0, 1)), min_size=n_tr, max_size=n_tr))
            ),
            "signal_event_id": np.array(links, dtype=object),
            "venue": np.full(n_tr, None, dtype=object),
            "regime": np.full(n_tr, None, dtype=object),
        }
    )
    inputs = CycleInputs(signals=signals, components=components, trades=trades, prices=prices)
    stamps = [*signals["ts"], *trades["ts"], *prices["ts"]]
    now = int(max(stamps)) if stamps else T0
    return inputs, now + draw(st.sampled_from([0, 10 * MINUTE, 3 * 24 * 60 * MINUTE]))


def _jsonable(proposal: Any) -> Any:
    return [(c.path, c.old, c.new) for c in proposal.changes]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    window=windows(), config=st.sampled_from([DEFAULT, EAGER]), kind=st.sampled_from(["continuous", "comprehensive"])
)
def test_a_cycle_never_raises_on_a_small_window(
    window: tuple[CycleInputs, int], config: LearningConfig, kind: str
) -> None:
    inputs, now = window
    start = default_sections(config)
    proposal = run_cycle(inputs, start, config, kind, now)  # type: ignore[arg-type]
    ParamSections.model_validate(proposal.sections.model_dump())
    again = run_cycle(inputs, start, config, kind, now)  # type: ignore[arg-type]
    assert _jsonable(again) == _jsonable(proposal)


def test_trades_without_signals_is_a_cycle_not_an_index_error() -> None:
    """The reproduction: a bot that posts only trades (enrich.py indexed an empty array)."""
    trades = pd.DataFrame(
        {
            "event_id": pd.array(["t0", "t1"], dtype="str"),
            "symbol": pd.array(["AAA", "AAA"], dtype="str"),
            "direction": pd.array(["long", "short"], dtype="str"),
            "opened_at": np.array([T0, T0 + MINUTE], dtype=np.int64),
            "ts": np.array([T0 + MINUTE, T0 + 2 * MINUTE], dtype=np.int64),
            "entry_price": [100.0, 100.0],
            "exit_price": [101.0, 99.0],
            "quantity": [1.0, 1.0],
            "pnl": [0.9, 0.9],
            "fees": [0.1, 0.1],
            "strategy": np.array(["momo", None], dtype=object),
            "conviction": [0.7, np.nan],
            "signal_event_id": np.array(["gone", None], dtype=object),
            "venue": np.array([None, None], dtype=object),
            "regime": np.array([None, None], dtype=object),
        }
    )
    for kind in ("continuous", "comprehensive"):
        proposal = run_cycle(CycleInputs(trades=trades), default_sections(DEFAULT), DEFAULT, kind, T0 + 2 * MINUTE)
        assert proposal.inputs["trades"] == 2 and proposal.inputs["signals"] == 0
