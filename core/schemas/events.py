"""Events a bot posts (DESIGN.md section 5), validated strictly so client typos surface.

Events validate into plain dicts (TypedDicts) rather than models: a batch is thousands of events
that are only ever turned into rows, and building model instances, then running per-instance
"after" validators on them, was most of pydantic's cost. Optional fields come out as ``None``,
times as epoch milliseconds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, get_args

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, with_config
from typing_extensions import TypedDict

from core.schemas.enums import Decision, Direction, KnownGate
from core.schemas.timefmt import rfc3339_to_ms

FUTURE_TOLERANCE_MS = 5 * 60 * 1000
EPOCH_SECONDS_BELOW = 10**11  # an integer time below this (1973 in ms, year 5138 in s) was sent in seconds
_MIN_MS = 0
_MAX_MS = 253402300799999  # 9999-12-31


def _to_epoch_ms(value: Any, info: ValidationInfo) -> int:
    if isinstance(value, bool):
        raise ValueError("time must be an RFC 3339 string or integer epoch milliseconds")
    if isinstance(value, int):
        if value < EPOCH_SECONDS_BELOW:
            raise ValueError("looks like epoch seconds; send milliseconds (integer times are epoch milliseconds)")
        ms = value
    elif isinstance(value, str):
        ms = rfc3339_to_ms(value)
    else:
        raise ValueError("time must be an RFC 3339 string or integer epoch milliseconds")
    if not _MIN_MS <= ms <= _MAX_MS:
        raise ValueError("time out of range (epoch milliseconds between 1970 and 9999)")
    now_ms = (info.context or {}).get("now_ms")
    if now_ms is not None and ms > now_ms + FUTURE_TOLERANCE_MS:
        raise ValueError("time is more than 5 minutes ahead of the server clock")
    return ms


EventTime = Annotated[
    int,
    BeforeValidator(_to_epoch_ms),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset."},
                {
                    "type": "integer",
                    "minimum": EPOCH_SECONDS_BELOW,
                    "maximum": _MAX_MS,
                    "description": "Epoch milliseconds (an integer below 10^11 looks like seconds and is refused).",
                },
            ],
            "description": "RFC 3339 with an offset (`2026-01-02T03:04:05.123Z`) or integer epoch milliseconds; "
            "at most 5 minutes ahead of the server clock.",
            "examples": ["2026-01-02T03:04:05.123Z", 1767323045123],
        }
    ),
]
"""Epoch milliseconds; accepts RFC 3339 with offset or integer epoch ms on input."""

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
# Text is stored in PostgreSQL text columns, which cannot hold the NUL character: refused here (422)
# rather than failing in the database. The pattern runs inside pydantic-core (no Python call).
NO_NUL = r"^[^\x00]*$"
Symbol = Annotated[str, Field(min_length=1, max_length=64, strict=True, pattern=NO_NUL)]
Name = Annotated[str, Field(min_length=1, max_length=128, strict=True, pattern=NO_NUL)]
EventId = Annotated[str, Field(min_length=1, max_length=128, strict=True, pattern=NO_NUL)]
ParamsVersion = Annotated[
    int | None, Field(None, strict=True, ge=1, le=2**31 - 1, description="The param version the bot ran (>= 1).")
]
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class _Event(TypedDict):
    event_id: Annotated[EventId, Field(description="Unique per bot; a repeat is a duplicate, not an error.")]
    ts: Annotated[EventTime, Field(description="RFC 3339 with offset, or integer epoch milliseconds.")]


@with_config(_FORBID)
class SignalEvent(_Event):
    """A signal the bot evaluated, executed or blocked."""

    type: Literal["signal"]
    symbol: Symbol
    direction: Direction
    price: Annotated[PositiveFloat, Field(description="Reference price at ts.")]
    conviction: Fraction
    components: Annotated[
        dict[Name, FiniteFloat],
        Field(min_length=1, max_length=64, description="Component name -> score; >0 bullish, <0 bearish."),
    ]
    decision: Decision
    blocked_by: NotRequired[
        Annotated[
            Name | None,
            Field(None, description="Gate that blocked it (a well-known one or any name); required iff blocked."),
            # Validated as any name; documented with the well-known gates first, so clients get the enum.
            WithJsonSchema(
                {
                    "anyOf": [
                        {"type": "string", "enum": list(get_args(KnownGate))},
                        {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NO_NUL},
                        {"type": "null"},
                    ]
                }
            ),
        ]
    ]
    strategy: NotRequired[Annotated[Name | None, Field(None)]]
    expected_edge_bps: NotRequired[Annotated[FiniteFloat | None, Field(None)]]
    regime: NotRequired[Annotated[Name | None, Field(None)]]
    params_version: NotRequired[ParamsVersion]


@with_config(_FORBID)
class TradeEvent(_Event):
    """A closed position; ``pnl`` is net of fees and authoritative."""

    type: Literal["trade"]
    symbol: Symbol
    direction: Direction
    opened_at: EventTime
    entry_price: PositiveFloat
    exit_price: PositiveFloat
    quantity: PositiveFloat
    pnl: Annotated[FiniteFloat, Field(description="Net PnL after fees, quote currency.")]
    fees: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
    strategy: NotRequired[Annotated[Name | None, Field(None)]]
    conviction: NotRequired[Annotated[Fraction | None, Field(None)]]
    signal_event_id: NotRequired[Annotated[EventId | None, Field(None)]]
    venue: NotRequired[Annotated[Name | None, Field(None)]]
    regime: NotRequired[Annotated[Name | None, Field(None)]]
    params_version: NotRequired[ParamsVersion]


@with_config(_FORBID)
class PriceEvent(TypedDict):
    """A price mark; unique per (bot, symbol, ts)."""

    type: Literal["price"]
    event_id: NotRequired[Annotated[EventId | None, Field(None)]]
    ts: EventTime
    symbol: Symbol
    price: PositiveFloat


# Cross-field rules run once an event's fields are valid (like a model's "after" validator),
# so an event with a bad field reports only its field errors.


def _blocked_by_iff_blocked(event: SignalEvent) -> SignalEvent:
    if event["decision"] == "blocked" and event["blocked_by"] is None:
        raise ValueError("blocked_by is required when decision is 'blocked'")
    if event["decision"] == "executed" and event["blocked_by"] is not None:
        raise ValueError("blocked_by must be absent when decision is 'executed'")
    return event


def _closed_after_open(event: TradeEvent) -> TradeEvent:
    if event["ts"] < event["opened_at"]:
        raise ValueError("ts (close time) must not be before opened_at")
    return event


Event = Annotated[
    Annotated[SignalEvent, AfterValidator(_blocked_by_iff_blocked)]
    | Annotated[TradeEvent, AfterValidator(_closed_after_open)]
    | PriceEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = ("signal", "trade", "price")
