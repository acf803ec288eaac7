"""Proto messages <-> the plain dicts and models the services speak.

Events go in as the same JSON-shaped dicts a REST client posts, so ``validate_batch`` applies
every rule once, for both doors. Field names equal the JSON keys, so a validation error's
``loc`` is the same over REST and gRPC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import struct_pb2
from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message

from core.schemas.cycles import CycleRead
from proto.edgeloop.v1 import events_pb2, learning_pb2, params_pb2


def _enum_names(descriptor: EnumDescriptor, prefix: str) -> dict[int, str]:
    """``DIRECTION_LONG`` -> ``"long"``; the UNSPECIFIED value maps to "unspecified", which validation rejects."""
    return {v.number: v.name.removeprefix(prefix).lower() for v in descriptor.values}


def _enum_numbers(descriptor: EnumDescriptor, prefix: str) -> dict[str, int]:
    return {name: number for number, name in _enum_names(descriptor, prefix).items()}


_DIRECTION = _enum_names(events_pb2.Direction.DESCRIPTOR, "DIRECTION_")
_DECISION = _enum_names(events_pb2.Decision.DESCRIPTOR, "DECISION_")
_DIRECTION_NUMBER = _enum_numbers(events_pb2.Direction.DESCRIPTOR, "DIRECTION_")
_DECISION_NUMBER = _enum_numbers(events_pb2.Decision.DESCRIPTOR, "DECISION_")
_SOURCE_NUMBER = _enum_numbers(params_pb2.ParamSource.DESCRIPTOR, "PARAM_SOURCE_")
CYCLE_KIND = _enum_names(learning_pb2.CycleKind.DESCRIPTOR, "CYCLE_KIND_")
_CYCLE_KIND_NUMBER = _enum_numbers(learning_pb2.CycleKind.DESCRIPTOR, "CYCLE_KIND_")
_CYCLE_STATUS_NUMBER = _enum_numbers(learning_pb2.CycleStatus.DESCRIPTOR, "CYCLE_STATUS_")
_HEALTH_LEVEL_NUMBER = _enum_numbers(learning_pb2.HealthLevel.DESCRIPTOR, "HEALTH_LEVEL_")
_COMPONENT_STATUS_NUMBER = _enum_numbers(learning_pb2.ComponentStatus.DESCRIPTOR, "COMPONENT_STATUS_")


# --- events in ----------------------------------------------------------------------------------


def _time(value: events_pb2.Time) -> int | str | None:
    which = value.WhichOneof("value")
    return None if which is None else getattr(value, which)  # an empty Time is rejected by validation


def _enum(names: dict[int, str]) -> Callable[[int], object]:
    return lambda number: names.get(number, number)  # an unknown number stays a number: validation rejects it


_IN: dict[str, Callable[[Any], object]] = {
    "ts": _time,
    "opened_at": _time,
    "direction": _enum(_DIRECTION),
    "decision": _enum(_DECISION),
    "components": dict,
}


def event_to_dict(event: events_pb2.Event) -> dict[str, Any]:
    """One proto Event -> the REST event object (only the fields the client set)."""
    kind = event.WhichOneof("kind")
    if kind is None:
        return {}  # validation answers "field required: type"
    body = getattr(event, kind)
    out: dict[str, Any] = {"type": kind}
    for field, value in body.ListFields():
        convert = _IN.get(field.name)
        out[field.name] = convert(value) if convert is not None else value
    return out


def events_to_dicts(events: Any) -> list[dict[str, Any]]:
    return [event_to_dict(e) for e in events]


# --- events out (for clients, tests and benchmarks) ----------------------------------------------

_MESSAGES: dict[str, type[Message]] = {
    "signal": events_pb2.Signal,
    "trade": events_pb2.Trade,
    "price": events_pb2.Price,
}


def _time_message(value: int | str) -> events_pb2.Time:
    return events_pb2.Time(rfc3339=value) if isinstance(value, str) else events_pb2.Time(epoch_ms=value)


def event_from_dict(event: Mapping[str, Any]) -> events_pb2.Event:
    """A REST event object -> the proto Event (the inverse of :func:`event_to_dict`, for clients)."""
    fields = {k: v for k, v in event.items() if k != "type" and v is not None}
    for key in ("ts", "opened_at"):
        if key in fields:
            fields[key] = _time_message(fields[key])
    if "direction" in fields:
        fields["direction"] = _DIRECTION_NUMBER[fields["direction"]]
    if "decision" in fields:
        fields["decision"] = _DECISION_NUMBER[fields["decision"]]
    kind = event["type"]
    return events_pb2.Event(**{kind: _MESSAGES[kind](**fields)})


# --- param documents out -------------------------------------------------------------------------


def param_document(doc: Mapping[str, Any]) -> params_pb2.ParamDocument:
    """The JSON param document (DESIGN.md section 7) -> its typed message."""
    gates, hold = doc["gates"], doc["hold_time"]
    return params_pb2.ParamDocument(
        bot_id=doc["bot_id"],
        version=doc["version"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        source=_SOURCE_NUMBER.get(doc["source"], 0),
        cycle_id=doc.get("cycle_id"),
        default_weight=doc["default_weight"],
        weights=doc["weights"],
        signal_horizons=doc["signal_horizons"],
        gates=params_pb2.Gates(
            conviction=params_pb2.ConvictionGate(**gates["conviction"]),
            fee=params_pb2.FeeGate(**gates["fee"]),
        ),
        sizing=params_pb2.Sizing(buckets=[params_pb2.SizingBucket(**b) for b in doc["sizing"]["buckets"]]),
        blocked_combos=[
            params_pb2.BlockedCombo(**{**c, "direction": _DIRECTION_NUMBER.get(c["direction"], 0)})
            for c in doc["blocked_combos"]
        ],
        allocation=params_pb2.Allocation(**doc["allocation"]),
        hold_time=params_pb2.HoldTime(
            default=params_pb2.HoldPolicy(**hold["default"]),
            by_strategy={name: params_pb2.HoldPolicy(**p) for name, p in hold["by_strategy"].items()},
        ),
        weights_by_regime={
            regime: params_pb2.RegimeWeights(weights=w) for regime, w in doc.get("weights_by_regime", {}).items()
        },
        direction_routing=doc.get("direction_routing", {}),
        rules=[
            params_pb2.Rule(
                id=r["id"],
                when=_struct(r["when"]),
                effect=r["effect"],
                stats=r["stats"],
                since=r["since"],
                expires_at=r["expires_at"],
            )
            for r in doc.get("rules", [])
        ],
    )


# --- cycles and health out -----------------------------------------------------------------------


def _value(value: Any) -> struct_pb2.Value:
    out = struct_pb2.Value()
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int | float):
        out.number_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, Mapping):
        out.struct_value.update(value)
    else:
        out.list_value.extend(value)
    return out


def _struct(value: Mapping[str, Any] | None) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if value:
        out.update(value)
    return out


def cycle_message(cycle: CycleRead) -> learning_pb2.Cycle:
    return learning_pb2.Cycle(
        cycle_id=cycle.cycle_id,
        bot_id=cycle.bot_id,
        kind=_CYCLE_KIND_NUMBER.get(cycle.kind, 0),
        dry_run=cycle.dry_run,
        status=_CYCLE_STATUS_NUMBER.get(cycle.status, 0),
        queued_at=cycle.queued_at,
        started_at=cycle.started_at,
        finished_at=cycle.finished_at,
        inputs=cycle.inputs,
        changes=[
            learning_pb2.CycleChange(
                path=c.path, old=_value(c.old), new=_value(c.new), reason=c.reason, stats=_struct(c.stats)
            )
            for c in cycle.changes
        ],
        applied_version=cycle.applied_version,
        error=cycle.error,
        base_version=cycle.base_version,
        requested_by=cycle.requested_by,
    )


def queued_status() -> int:
    return _CYCLE_STATUS_NUMBER["queued"]


def health_message(doc: Mapping[str, Any]) -> learning_pb2.GetHealthResponse:
    """The learning health document (DESIGN.md section 9) -> its typed message."""
    counts = doc.get("counts") or {}
    return learning_pb2.GetHealthResponse(
        level=_HEALTH_LEVEL_NUMBER.get(doc["level"], 0),
        problems=[
            learning_pb2.HealthProblem(code=p["code"], message=p["message"], detail=_struct(p.get("detail")))
            for p in doc.get("problems", [])
        ],
        counts=learning_pb2.HealthCounts(
            **{f: counts.get(f, 0) for f in learning_pb2.HealthCounts.DESCRIPTOR.fields_by_name}
        ),
        components=[
            learning_pb2.HealthComponent(
                name=c["name"],
                outcomes=c["outcomes"],
                required=c["required"],
                status=_COMPONENT_STATUS_NUMBER.get(c["status"], 0),
                weight=c["weight"],
            )
            for c in doc.get("components", [])
        ],
        last_cycles={
            kind: learning_pb2.CycleSummary(
                cycle_id=c.get("cycle_id") or "",
                status=_CYCLE_STATUS_NUMBER.get(c.get("status") or "", 0),
                finished_at=c.get("finished_at"),
            )
            for kind, c in (doc.get("last_cycles") or {}).items()
            if c is not None
        },
        next_runs=_struct(doc.get("next_runs")),
        current_version=doc.get("current_version", 0),
        active_version=doc.get("active_version"),
        active_last_seen=doc.get("active_last_seen"),
        evidence=learning_pb2.HealthEvidence(**evidence) if (evidence := doc.get("evidence")) else None,
    )
