from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_LONG: _ClassVar[Direction]
    DIRECTION_SHORT: _ClassVar[Direction]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_EXECUTED: _ClassVar[Decision]
    DECISION_BLOCKED: _ClassVar[Decision]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_LONG: Direction
DIRECTION_SHORT: Direction
DECISION_UNSPECIFIED: Decision
DECISION_EXECUTED: Decision
DECISION_BLOCKED: Decision

class Time(_message.Message):
    __slots__ = ("epoch_ms", "rfc3339")
    EPOCH_MS_FIELD_NUMBER: _ClassVar[int]
    RFC3339_FIELD_NUMBER: _ClassVar[int]
    epoch_ms: int
    rfc3339: str
    def __init__(self, epoch_ms: _Optional[int] = ..., rfc3339: _Optional[str] = ...) -> None: ...

class Signal(_message.Message):
    __slots__ = ("event_id", "ts", "symbol", "direction", "price", "conviction", "components", "decision", "blocked_by", "strategy", "expected_edge_bps", "regime", "params_version")
    class ComponentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CONVICTION_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_BY_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_EDGE_BPS_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts: Time
    symbol: str
    direction: Direction
    price: float
    conviction: float
    components: _containers.ScalarMap[str, float]
    decision: Decision
    blocked_by: str
    strategy: str
    expected_edge_bps: float
    regime: str
    params_version: int
    def __init__(self, event_id: _Optional[str] = ..., ts: _Optional[_Union[Time, _Mapping]] = ..., symbol: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., price: _Optional[float] = ..., conviction: _Optional[float] = ..., components: _Optional[_Mapping[str, float]] = ..., decision: _Optional[_Union[Decision, str]] = ..., blocked_by: _Optional[str] = ..., strategy: _Optional[str] = ..., expected_edge_bps: _Optional[float] = ..., regime: _Optional[str] = ..., params_version: _Optional[int] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("event_id", "ts", "opened_at", "symbol", "direction", "entry_price", "exit_price", "quantity", "pnl", "fees", "strategy", "conviction", "signal_event_id", "venue", "regime", "params_version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CONVICTION_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts: Time
    opened_at: Time
    symbol: str
    direction: Direction
    entry_price: float
    exit_price: float
    quantity: float
    pnl: float
    fees: float
    strategy: str
    conviction: float
    signal_event_id: str
    venue: str
    regime: str
    params_version: int
    def __init__(self, event_id: _Optional[str] = ..., ts: _Optional[_Union[Time, _Mapping]] = ..., opened_at: _Optional[_Union[Time, _Mapping]] = ..., symbol: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., entry_price: _Optional[float] = ..., exit_price: _Optional[float] = ..., quantity: _Optional[float] = ..., pnl: _Optional[float] = ..., fees: _Optional[float] = ..., strategy: _Optional[str] = ..., conviction: _Optional[float] = ..., signal_event_id: _Optional[str] = ..., venue: _Optional[str] = ..., regime: _Optional[str] = ..., params_version: _Optional[int] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ("event_id", "ts", "symbol", "price")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts: Time
    symbol: str
    price: float
    def __init__(self, event_id: _Optional[str] = ..., ts: _Optional[_Union[Time, _Mapping]] = ..., symbol: _Optional[str] = ..., price: _Optional[float] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("signal", "trade", "price")
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    signal: Signal
    trade: Trade
    price: Price
    def __init__(self, signal: _Optional[_Union[Signal, _Mapping]] = ..., trade: _Optional[_Union[Trade, _Mapping]] = ..., price: _Optional[_Union[Price, _Mapping]] = ...) -> None: ...
