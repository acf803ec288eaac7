from google.protobuf import struct_pb2 as _struct_pb2
from proto.edgeloop.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParamSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARAM_SOURCE_UNSPECIFIED: _ClassVar[ParamSource]
    PARAM_SOURCE_DEFAULT: _ClassVar[ParamSource]
    PARAM_SOURCE_CYCLE: _ClassVar[ParamSource]
    PARAM_SOURCE_ROLLBACK: _ClassVar[ParamSource]
    PARAM_SOURCE_MANUAL: _ClassVar[ParamSource]
PARAM_SOURCE_UNSPECIFIED: ParamSource
PARAM_SOURCE_DEFAULT: ParamSource
PARAM_SOURCE_CYCLE: ParamSource
PARAM_SOURCE_ROLLBACK: ParamSource
PARAM_SOURCE_MANUAL: ParamSource

class ConvictionGate(_message.Message):
    __slots__ = ("min_conviction",)
    MIN_CONVICTION_FIELD_NUMBER: _ClassVar[int]
    min_conviction: float
    def __init__(self, min_conviction: _Optional[float] = ...) -> None: ...

class FeeGate(_message.Message):
    __slots__ = ("min_expected_edge_bps",)
    MIN_EXPECTED_EDGE_BPS_FIELD_NUMBER: _ClassVar[int]
    min_expected_edge_bps: float
    def __init__(self, min_expected_edge_bps: _Optional[float] = ...) -> None: ...

class Gates(_message.Message):
    __slots__ = ("conviction", "fee")
    CONVICTION_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    conviction: ConvictionGate
    fee: FeeGate
    def __init__(self, conviction: _Optional[_Union[ConvictionGate, _Mapping]] = ..., fee: _Optional[_Union[FeeGate, _Mapping]] = ...) -> None: ...

class SizingBucket(_message.Message):
    __slots__ = ("min_conviction", "max_conviction", "multiplier")
    MIN_CONVICTION_FIELD_NUMBER: _ClassVar[int]
    MAX_CONVICTION_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    min_conviction: float
    max_conviction: float
    multiplier: float
    def __init__(self, min_conviction: _Optional[float] = ..., max_conviction: _Optional[float] = ..., multiplier: _Optional[float] = ...) -> None: ...

class Sizing(_message.Message):
    __slots__ = ("buckets",)
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[SizingBucket]
    def __init__(self, buckets: _Optional[_Iterable[_Union[SizingBucket, _Mapping]]] = ...) -> None: ...

class BlockedCombo(_message.Message):
    __slots__ = ("symbol", "direction", "since", "reason", "trades", "win_rate", "pnl")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    direction: _events_pb2.Direction
    since: str
    reason: str
    trades: int
    win_rate: float
    pnl: float
    def __init__(self, symbol: _Optional[str] = ..., direction: _Optional[_Union[_events_pb2.Direction, str]] = ..., since: _Optional[str] = ..., reason: _Optional[str] = ..., trades: _Optional[int] = ..., win_rate: _Optional[float] = ..., pnl: _Optional[float] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("strategies", "symbols")
    class StrategiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class SymbolsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    strategies: _containers.ScalarMap[str, float]
    symbols: _containers.ScalarMap[str, float]
    def __init__(self, strategies: _Optional[_Mapping[str, float]] = ..., symbols: _Optional[_Mapping[str, float]] = ...) -> None: ...

class HoldPolicy(_message.Message):
    __slots__ = ("target_s", "max_s")
    TARGET_S_FIELD_NUMBER: _ClassVar[int]
    MAX_S_FIELD_NUMBER: _ClassVar[int]
    target_s: int
    max_s: int
    def __init__(self, target_s: _Optional[int] = ..., max_s: _Optional[int] = ...) -> None: ...

class HoldTime(_message.Message):
    __slots__ = ("default", "by_strategy")
    class ByStrategyEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HoldPolicy
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HoldPolicy, _Mapping]] = ...) -> None: ...
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    BY_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    default: HoldPolicy
    by_strategy: _containers.MessageMap[str, HoldPolicy]
    def __init__(self, default: _Optional[_Union[HoldPolicy, _Mapping]] = ..., by_strategy: _Optional[_Mapping[str, HoldPolicy]] = ...) -> None: ...

class RegimeWeights(_message.Message):
    __slots__ = ("weights",)
    class WeightsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    weights: _containers.ScalarMap[str, float]
    def __init__(self, weights: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Rule(_message.Message):
    __slots__ = ("id", "when", "effect", "stats", "since", "expires_at")
    class StatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    when: _struct_pb2.Struct
    effect: str
    stats: _containers.ScalarMap[str, float]
    since: str
    expires_at: str
    def __init__(self, id: _Optional[str] = ..., when: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., effect: _Optional[str] = ..., stats: _Optional[_Mapping[str, float]] = ..., since: _Optional[str] = ..., expires_at: _Optional[str] = ...) -> None: ...

class ParamDocument(_message.Message):
    __slots__ = ("bot_id", "version", "created_at", "source", "cycle_id", "default_weight", "weights", "signal_horizons", "gates", "sizing", "blocked_combos", "allocation", "hold_time", "expires_at", "weights_by_regime", "direction_routing", "rules")
    class WeightsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class SignalHorizonsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class WeightsByRegimeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: RegimeWeights
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[RegimeWeights, _Mapping]] = ...) -> None: ...
    class DirectionRoutingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_HORIZONS_FIELD_NUMBER: _ClassVar[int]
    GATES_FIELD_NUMBER: _ClassVar[int]
    SIZING_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_COMBOS_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    HOLD_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_BY_REGIME_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_ROUTING_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    version: int
    created_at: str
    source: ParamSource
    cycle_id: str
    default_weight: float
    weights: _containers.ScalarMap[str, float]
    signal_horizons: _containers.ScalarMap[str, str]
    gates: Gates
    sizing: Sizing
    blocked_combos: _containers.RepeatedCompositeFieldContainer[BlockedCombo]
    allocation: Allocation
    hold_time: HoldTime
    expires_at: str
    weights_by_regime: _containers.MessageMap[str, RegimeWeights]
    direction_routing: _containers.ScalarMap[str, str]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    def __init__(self, bot_id: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[str] = ..., source: _Optional[_Union[ParamSource, str]] = ..., cycle_id: _Optional[str] = ..., default_weight: _Optional[float] = ..., weights: _Optional[_Mapping[str, float]] = ..., signal_horizons: _Optional[_Mapping[str, str]] = ..., gates: _Optional[_Union[Gates, _Mapping]] = ..., sizing: _Optional[_Union[Sizing, _Mapping]] = ..., blocked_combos: _Optional[_Iterable[_Union[BlockedCombo, _Mapping]]] = ..., allocation: _Optional[_Union[Allocation, _Mapping]] = ..., hold_time: _Optional[_Union[HoldTime, _Mapping]] = ..., expires_at: _Optional[str] = ..., weights_by_regime: _Optional[_Mapping[str, RegimeWeights]] = ..., direction_routing: _Optional[_Mapping[str, str]] = ..., rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ...) -> None: ...
