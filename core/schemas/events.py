"""Events a bot posts (DESIGN.md section 5), validated strictly so client typos surface."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from core.schemas.timefmt import rfc3339_to_ms

FUTURE_TOLERANCE_MS = 5 * 60 * 1000
_MIN_MS = 0
_MAX_MS = 253402300799999  # 9999-12-31


def _to_epoch_ms(value: Any, info: ValidationInfo) -> int:
    if isinstance(value, bool):
        raise ValueError("time must be an RFC 3339 string or integer epoch milliseconds")
    if isinstance(value, int):
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


EventTime = Annotated[int, BeforeValidator(_to_epoch_ms)]
"""Epoch milliseconds; accepts RFC 3339 with offset or integer epoch ms on input."""

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
Symbol = Annotated[str, Field(min_length=1, max_length=64, strict=True)]
Name = Annotated[str, Field(min_length=1, max_length=128, strict=True)]
EventId = Annotated[str, Field(min_length=1, max_length=128, strict=True)]
Direction = Literal["long", "short"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: EventId = Field(..., description="Unique per bot; a repeat is a duplicate, not an error.")
    ts: EventTime = Field(..., description="RFC 3339 with offset, or integer epoch milliseconds.")


class SignalEvent(_Event):
    """A signal the bot evaluated, executed or blocked."""

    type: Literal["signal"]
    symbol: Symbol
    direction: Direction
    price: PositiveFloat = Field(..., description="Reference price at ts.")
    conviction: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
    components: dict[Name, FiniteFloat] = Field(
        ..., min_length=1, max_length=64, description="Component name -> score; >0 bullish, <0 bearish."
    )
    decision: Literal["executed", "blocked"]
    blocked_by: Name | None = Field(None, description="Gate that blocked it; required iff decision is 'blocked'.")
    strategy: Name | None = None
    expected_edge_bps: FiniteFloat | None = None
    regime: Name | None = None

    @model_validator(mode="after")
    def _blocked_by_iff_blocked(self) -> SignalEvent:
        if self.decision == "blocked" and self.blocked_by is None:
            raise ValueError("blocked_by is required when decision is 'blocked'")
        if self.decision == "executed" and self.blocked_by is not None:
            raise ValueError("blocked_by must be absent when decision is 'executed'")
        return self


class TradeEvent(_Event):
    """A closed position; ``pnl`` is net of fees and authoritative."""

    type: Literal["trade"]
    symbol: Symbol
    direction: Direction
    opened_at: EventTime
    entry_price: PositiveFloat
    exit_price: PositiveFloat
    quantity: PositiveFloat
    pnl: FiniteFloat = Field(..., description="Net PnL after fees, quote currency.")
    fees: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
    strategy: Name | None = None
    conviction: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)] | None = None
    signal_event_id: EventId | None = None
    venue: Name | None = None
    regime: Name | None = None

    @model_validator(mode="after")
    def _closed_after_open(self) -> TradeEvent:
        if self.ts < self.opened_at:
            raise ValueError("ts (close time) must not be before opened_at")
        return self


class PriceEvent(BaseModel):
    """A price mark; unique per (bot, symbol, ts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["price"]
    event_id: EventId | None = None
    ts: EventTime
    symbol: Symbol
    price: PositiveFloat


Event = Annotated[SignalEvent | TradeEvent | PriceEvent, Field(discriminator="type")]
EVENT_TYPES = ("signal", "trade", "price")
