"""The closed sets of values the API speaks: one Literal each, the only place its values are written.

Fields use these aliases (validation stays a Literal, as fast as before); the OpenAPI export turns
each into one named enum component (``ENUMS``) that every field of that kind references, so a
generated client gets one ``Direction`` type rather than a string here and an enum there.
"""

from __future__ import annotations

from typing import Literal, get_args

Direction = Literal["long", "short"]
Decision = Literal["executed", "blocked"]
KnownGate = Literal["conviction_gate", "fee_gate", "blocked_combo", "correlation_throttle"]
"""Well-known values of a signal's ``blocked_by``; any other gate name is allowed too."""
ParamSource = Literal["default", "cycle", "rollback", "manual"]
CycleKind = Literal["continuous", "comprehensive"]
CycleStatus = Literal["queued", "running", "succeeded", "failed"]
HealthLevel = Literal["ok", "warn", "error"]
ComponentStatus = Literal["learning", "insufficient_data"]
QueueBackend = Literal["arq", "embedded"]
KeyScope = Literal["bot", "admin"]
Route = Literal["long_only", "short_only"]
RuleEffect = Literal["avoid", "prefer"]
AuditAction = Literal[
    "bot_created",
    "config_changed",
    "key_created",
    "key_revoked",
    "admin_key_created",
    "admin_key_revoked",
    "cycle_queued",
    "cycle_requeued",
    "cycle_succeeded",
    "cycle_applied",
    "cycle_failed",
    "rollback",
]

ENUMS: dict[str, tuple[str, ...]] = {
    "Direction": get_args(Direction),
    "Decision": get_args(Decision),
    "KnownGate": get_args(KnownGate),
    "ParamSource": get_args(ParamSource),
    "CycleKind": get_args(CycleKind),
    "CycleStatus": get_args(CycleStatus),
    "HealthLevel": get_args(HealthLevel),
    "ComponentStatus": get_args(ComponentStatus),
    "QueueBackend": get_args(QueueBackend),
    "KeyScope": get_args(KeyScope),
    "Route": get_args(Route),
    "RuleEffect": get_args(RuleEffect),
    "AuditAction": get_args(AuditAction),
}
"""Component name -> values, for the OpenAPI export (a schema listing exactly these values refers to it)."""
