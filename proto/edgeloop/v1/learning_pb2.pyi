from proto.edgeloop.v1 import events_pb2 as _events_pb2
from proto.edgeloop.v1 import params_pb2 as _params_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ComponentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPONENT_STATUS_UNSPECIFIED: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_LEARNING: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_INSUFFICIENT_DATA: _ClassVar[ComponentStatus]

class HealthLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_LEVEL_UNSPECIFIED: _ClassVar[HealthLevel]
    HEALTH_LEVEL_OK: _ClassVar[HealthLevel]
    HEALTH_LEVEL_WARN: _ClassVar[HealthLevel]
    HEALTH_LEVEL_ERROR: _ClassVar[HealthLevel]

class CycleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CYCLE_KIND_UNSPECIFIED: _ClassVar[CycleKind]
    CYCLE_KIND_CONTINUOUS: _ClassVar[CycleKind]
    CYCLE_KIND_COMPREHENSIVE: _ClassVar[CycleKind]

class CycleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CYCLE_STATUS_UNSPECIFIED: _ClassVar[CycleStatus]
    CYCLE_STATUS_QUEUED: _ClassVar[CycleStatus]
    CYCLE_STATUS_RUNNING: _ClassVar[CycleStatus]
    CYCLE_STATUS_SUCCEEDED: _ClassVar[CycleStatus]
    CYCLE_STATUS_FAILED: _ClassVar[CycleStatus]
COMPONENT_STATUS_UNSPECIFIED: ComponentStatus
COMPONENT_STATUS_LEARNING: ComponentStatus
COMPONENT_STATUS_INSUFFICIENT_DATA: ComponentStatus
HEALTH_LEVEL_UNSPECIFIED: HealthLevel
HEALTH_LEVEL_OK: HealthLevel
HEALTH_LEVEL_WARN: HealthLevel
HEALTH_LEVEL_ERROR: HealthLevel
CYCLE_KIND_UNSPECIFIED: CycleKind
CYCLE_KIND_CONTINUOUS: CycleKind
CYCLE_KIND_COMPREHENSIVE: CycleKind
CYCLE_STATUS_UNSPECIFIED: CycleStatus
CYCLE_STATUS_QUEUED: CycleStatus
CYCLE_STATUS_RUNNING: CycleStatus
CYCLE_STATUS_SUCCEEDED: CycleStatus
CYCLE_STATUS_FAILED: CycleStatus

class IngestEventsRequest(_message.Message):
    __slots__ = ("bot_id", "events")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    def __init__(self, bot_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ...) -> None: ...

class IngestEventsResponse(_message.Message):
    __slots__ = ("accepted", "duplicates")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("accepted", "duplicates", "batches")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    duplicates: int
    batches: int
    def __init__(self, accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., batches: _Optional[int] = ...) -> None: ...

class GetParamsRequest(_message.Message):
    __slots__ = ("bot_id", "known_version", "wait_s")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    WAIT_S_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    known_version: int
    wait_s: int
    def __init__(self, bot_id: _Optional[str] = ..., known_version: _Optional[int] = ..., wait_s: _Optional[int] = ...) -> None: ...

class GetParamsResponse(_message.Message):
    __slots__ = ("version", "not_modified", "document")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NOT_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    version: int
    not_modified: bool
    document: _params_pb2.ParamDocument
    def __init__(self, version: _Optional[int] = ..., not_modified: _Optional[bool] = ..., document: _Optional[_Union[_params_pb2.ParamDocument, _Mapping]] = ...) -> None: ...

class WatchParamsRequest(_message.Message):
    __slots__ = ("bot_id", "known_version")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    known_version: int
    def __init__(self, bot_id: _Optional[str] = ..., known_version: _Optional[int] = ...) -> None: ...

class WatchParamsResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: _params_pb2.ParamDocument
    def __init__(self, document: _Optional[_Union[_params_pb2.ParamDocument, _Mapping]] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ("bot_id",)
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    def __init__(self, bot_id: _Optional[str] = ...) -> None: ...

class HealthProblem(_message.Message):
    __slots__ = ("code", "message", "detail")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    detail: _struct_pb2.Struct
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., detail: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class HealthCounts(_message.Message):
    __slots__ = ("signals", "trades", "prices", "outcomes_resolved", "outcomes_pending", "outcomes_gap")
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_PENDING_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_GAP_FIELD_NUMBER: _ClassVar[int]
    signals: int
    trades: int
    prices: int
    outcomes_resolved: int
    outcomes_pending: int
    outcomes_gap: int
    def __init__(self, signals: _Optional[int] = ..., trades: _Optional[int] = ..., prices: _Optional[int] = ..., outcomes_resolved: _Optional[int] = ..., outcomes_pending: _Optional[int] = ..., outcomes_gap: _Optional[int] = ...) -> None: ...

class HealthComponent(_message.Message):
    __slots__ = ("name", "outcomes", "required", "weight", "status")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    outcomes: int
    required: int
    weight: float
    status: ComponentStatus
    def __init__(self, name: _Optional[str] = ..., outcomes: _Optional[int] = ..., required: _Optional[int] = ..., weight: _Optional[float] = ..., status: _Optional[_Union[ComponentStatus, str]] = ...) -> None: ...

class CycleSummary(_message.Message):
    __slots__ = ("cycle_id", "finished_at", "status")
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    cycle_id: str
    finished_at: str
    status: CycleStatus
    def __init__(self, cycle_id: _Optional[str] = ..., finished_at: _Optional[str] = ..., status: _Optional[_Union[CycleStatus, str]] = ...) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("problems", "counts", "components", "last_cycles", "next_runs", "evidence", "level", "current_version", "active_version", "active_last_seen")
    class LastCyclesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: CycleSummary
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[CycleSummary, _Mapping]] = ...) -> None: ...
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_CYCLES_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUNS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CURRENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[HealthProblem]
    counts: HealthCounts
    components: _containers.RepeatedCompositeFieldContainer[HealthComponent]
    last_cycles: _containers.MessageMap[str, CycleSummary]
    next_runs: _struct_pb2.Struct
    evidence: HealthEvidence
    level: HealthLevel
    current_version: int
    active_version: int
    active_last_seen: str
    def __init__(self, problems: _Optional[_Iterable[_Union[HealthProblem, _Mapping]]] = ..., counts: _Optional[_Union[HealthCounts, _Mapping]] = ..., components: _Optional[_Iterable[_Union[HealthComponent, _Mapping]]] = ..., last_cycles: _Optional[_Mapping[str, CycleSummary]] = ..., next_runs: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., evidence: _Optional[_Union[HealthEvidence, _Mapping]] = ..., level: _Optional[_Union[HealthLevel, str]] = ..., current_version: _Optional[int] = ..., active_version: _Optional[int] = ..., active_last_seen: _Optional[str] = ...) -> None: ...

class HealthEvidence(_message.Message):
    __slots__ = ("cycle_id", "as_of")
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    cycle_id: str
    as_of: str
    def __init__(self, cycle_id: _Optional[str] = ..., as_of: _Optional[str] = ...) -> None: ...

class TriggerCycleRequest(_message.Message):
    __slots__ = ("bot_id", "kind", "dry_run")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    kind: CycleKind
    dry_run: bool
    def __init__(self, bot_id: _Optional[str] = ..., kind: _Optional[_Union[CycleKind, str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class TriggerCycleResponse(_message.Message):
    __slots__ = ("cycle_id", "status")
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    cycle_id: str
    status: CycleStatus
    def __init__(self, cycle_id: _Optional[str] = ..., status: _Optional[_Union[CycleStatus, str]] = ...) -> None: ...

class GetCycleRequest(_message.Message):
    __slots__ = ("bot_id", "cycle_id")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    cycle_id: str
    def __init__(self, bot_id: _Optional[str] = ..., cycle_id: _Optional[str] = ...) -> None: ...

class CycleChange(_message.Message):
    __slots__ = ("path", "old", "new", "reason", "stats")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OLD_FIELD_NUMBER: _ClassVar[int]
    NEW_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    path: str
    old: _struct_pb2.Value
    new: _struct_pb2.Value
    reason: str
    stats: _struct_pb2.Struct
    def __init__(self, path: _Optional[str] = ..., old: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., new: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., reason: _Optional[str] = ..., stats: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Cycle(_message.Message):
    __slots__ = ("cycle_id", "bot_id", "kind", "dry_run", "status", "queued_at", "started_at", "finished_at", "inputs", "changes", "applied_version", "error", "base_version", "requested_by")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CYCLE_ID_FIELD_NUMBER: _ClassVar[int]
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_VERSION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    cycle_id: str
    bot_id: str
    kind: CycleKind
    dry_run: bool
    status: CycleStatus
    queued_at: str
    started_at: str
    finished_at: str
    inputs: _containers.ScalarMap[str, int]
    changes: _containers.RepeatedCompositeFieldContainer[CycleChange]
    applied_version: int
    error: str
    base_version: int
    requested_by: str
    def __init__(self, cycle_id: _Optional[str] = ..., bot_id: _Optional[str] = ..., kind: _Optional[_Union[CycleKind, str]] = ..., dry_run: _Optional[bool] = ..., status: _Optional[_Union[CycleStatus, str]] = ..., queued_at: _Optional[str] = ..., started_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., inputs: _Optional[_Mapping[str, int]] = ..., changes: _Optional[_Iterable[_Union[CycleChange, _Mapping]]] = ..., applied_version: _Optional[int] = ..., error: _Optional[str] = ..., base_version: _Optional[int] = ..., requested_by: _Optional[str] = ...) -> None: ...

class ReportActivationRequest(_message.Message):
    __slots__ = ("bot_id", "version")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    bot_id: str
    version: int
    def __init__(self, bot_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Activation(_message.Message):
    __slots__ = ("key_id", "version", "first_seen", "last_seen")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    version: int
    first_seen: str
    last_seen: str
    def __init__(self, key_id: _Optional[str] = ..., version: _Optional[int] = ..., first_seen: _Optional[str] = ..., last_seen: _Optional[str] = ...) -> None: ...
