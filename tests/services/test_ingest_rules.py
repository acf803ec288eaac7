"""Event validation keeps its rules: the TypedDict schema accepts, converts and rejects exactly what the
pydantic models it replaced did (same rows, same errors in the same order), on random batches."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from core.errors import EdgeloopError, FieldError
from core.schemas.events import NO_NUL, EventTime, FiniteFloat, Name, PositiveFloat, Symbol
from core.services import ingest
from core.services.validation import field_errors

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z

# --- the rules as they were written before (per-event models with "after" validators): the oracle ---

_Id = Annotated[str, Field(min_length=1, max_length=128, strict=True, pattern=NO_NUL)]
_Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
_Version = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]


class _OldEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: _Id
    ts: EventTime


class _OldSignal(_OldEvent):
    type: Literal["signal"]
    symbol: Symbol
    direction: Literal["long", "short"]
    price: PositiveFloat
    conviction: _Fraction
    components: dict[Name, FiniteFloat] = Field(..., min_length=1, max_length=64)
    decision: Literal["executed", "blocked"]
    blocked_by: Name | None = None
    strategy: Name | None = None
    expected_edge_bps: FiniteFloat | None = None
    regime: Name | None = None
    params_version: _Version | None = None

    @model_validator(mode="after")
    def _blocked_by_iff_blocked(self) -> _OldSignal:
        if self.decision == "blocked" and self.blocked_by is None:
            raise ValueError("blocked_by is required when decision is 'blocked'")
        if self.decision == "executed" and self.blocked_by is not None:
            raise ValueError("blocked_by must be absent when decision is 'executed'")
        return self


class _OldTrade(_OldEvent):
    type: Literal["trade"]
    symbol: Symbol
    direction: Literal["long", "short"]
    opened_at: EventTime
    entry_price: PositiveFloat
    exit_price: PositiveFloat
    quantity: PositiveFloat
    pnl: FiniteFloat
    fees: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
    strategy: Name | None = None
    conviction: _Fraction | None = None
    signal_event_id: _Id | None = None
    venue: Name | None = None
    regime: Name | None = None
    params_version: _Version | None = None

    @model_validator(mode="after")
    def _closed_after_open(self) -> _OldTrade:
        if self.ts < self.opened_at:
            raise ValueError("ts (close time) must not be before opened_at")
        return self


class _OldPrice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["price"]
    event_id: _Id | None = None
    ts: EventTime
    symbol: Symbol
    price: PositiveFloat


_OLD = TypeAdapter(list[Annotated[_OldSignal | _OldTrade | _OldPrice, Field(discriminator="type")]])


def old_rule(raw: list[Any]) -> list[dict[str, Any]] | list[FieldError]:
    try:
        events = _OLD.validate_python(raw, context={"now_ms": NOW})
    except ValidationError as exc:
        return field_errors(exc, batch=True)
    return [dict(ev.__dict__) for ev in events]


def new_rule(raw: list[Any]) -> list[dict[str, Any]] | list[FieldError]:
    try:
        return [dict(ev) for ev in ingest.validate_batch(raw, NOW, 10_000)]
    except EdgeloopError as exc:
        assert exc.code == "invalid_events"
        return exc.errors


# --- random batches: valid events with a few random faults each ---

_TIMES = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**62),
    st.integers(min_value=NOW - 86_400_000, max_value=NOW + 600_000),  # around "now", some in the future
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-01-01T01:00:00.5+01:00",
            "2026-01-01T00:04:59.999Z",
            "2026-01-01T00:05:00.001Z",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "yesterday",
            "",
            "0001-01-01T00:00:00+00:00",
            "1969-12-31T23:59:59Z",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.just([1]),
)
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=5),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1.5, "1.0", True, None, 10**30]),
)
_TEXTS = st.one_of(st.text(max_size=3), st.text(min_size=60, max_size=140), st.sampled_from([None, 3, "x"]))
_BASE: dict[str, dict[str, Any]] = {
    "signal": {
        "type": "signal",
        "event_id": "s",
        "ts": NOW - 60_000,
        "symbol": "BTCUSDT",
        "direction": "long",
        "price": 100.0,
        "conviction": 0.5,
        "components": {"ofi": 1.0},
        "decision": "executed",
    },
    "trade": {
        "type": "trade",
        "event_id": "t",
        "ts": NOW - 60_000,
        "opened_at": NOW - 120_000,
        "symbol": "BTCUSDT",
        "direction": "short",
        "entry_price": 100.0,
        "exit_price": 99.0,
        "quantity": 2.0,
        "pnl": 1.9,
        "fees": 0.1,
    },
    "price": {"type": "price", "ts": NOW - 60_000, "symbol": "BTCUSDT", "price": 100.0},
}
_OPTIONAL = {
    "signal": ["blocked_by", "strategy", "expected_edge_bps", "regime", "params_version"],
    "trade": ["strategy", "conviction", "signal_event_id", "venue", "regime", "params_version"],
    "price": ["event_id"],
}


def _fault(key: str) -> st.SearchStrategy[Any]:
    if key in ("ts", "opened_at"):
        return _TIMES
    if key in ("price", "conviction", "entry_price", "exit_price", "quantity", "pnl", "fees", "expected_edge_bps"):
        return _NUMBERS
    if key == "components":
        return st.one_of(
            st.dictionaries(_TEXTS.filter(lambda k: isinstance(k, str)), _NUMBERS, max_size=3),
            st.just({f"c{i}": 1.0 for i in range(65)}),
            st.just([]),
        )
    if key == "type":
        return st.sampled_from(["signal", "trade", "price", "quote", 1, None])
    if key == "decision":
        return st.sampled_from(["executed", "blocked", "maybe"])
    if key == "direction":
        return st.sampled_from(["long", "short", "up"])
    return _TEXTS


@st.composite
def _event(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from([*_BASE, *_BASE, *_BASE, "not an object"]))
    if kind not in _BASE:
        return draw(st.sampled_from(["not an object", 7, None, [1]]))
    event = dict(_BASE[kind])
    if kind == "signal" and draw(st.booleans()):
        event.update(decision="blocked", blocked_by="fee_gate")
    fields = [*_BASE[kind], *_OPTIONAL[kind]]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        action = draw(st.sampled_from(["set", "set", "set", "drop", "extra"]))
        key = draw(st.sampled_from(fields))
        if action == "drop":
            event.pop(key, None)
        elif action == "extra":
            event[draw(st.sampled_from(["colour", "Ts", "opened_at", "blocked_by"]))] = "x"
        else:
            event[key] = draw(_fault(key))
    return event


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_event(), max_size=6))
def test_new_schema_accepts_and_rejects_exactly_as_the_old_models(raw: list[Any]) -> None:
    assert new_rule(raw) == old_rule(raw)


@pytest.mark.parametrize(
    "event",
    [
        {**_BASE["signal"], "decision": "blocked"},
        {**_BASE["signal"], "blocked_by": "fee_gate"},
        {**_BASE["trade"], "opened_at": NOW - 30_000},
        {**_BASE["trade"], "opened_at": NOW - 30_000, "fees": -1.0},  # a bad field hides the cross-field rule
        {**_BASE["price"], "ts": NOW + 300_001},
        {**_BASE["price"], "ts": "2026-01-01T00:00:00"},
    ],
)
def test_each_rule_reports_what_the_old_models_did(event: dict[str, Any]) -> None:
    raw = [dict(_BASE["price"]), event]
    errors = new_rule(raw)
    assert errors and all(isinstance(e, FieldError) and e.index == 1 for e in errors)
    assert errors == old_rule(raw)


def test_valid_events_come_out_with_every_column() -> None:
    rows = new_rule([dict(base) for base in _BASE.values()])
    assert rows == old_rule([dict(base) for base in _BASE.values()])
    assert rows[0]["blocked_by"] is None and rows[1]["venue"] is None and rows[2]["event_id"] is None
