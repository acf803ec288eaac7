"""The param document a bot fetches (DESIGN.md section 7) and the defaults of version 1."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.schemas.config import LearningConfig
from core.schemas.duration import duration_seconds
from core.schemas.enums import Direction, ParamSource, Route, RuleEffect
from core.schemas.timefmt import Rfc3339

DEFAULT_HOLD_TARGET_S = 900
DEFAULT_HOLD_MAX_S = 3600


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConvictionGate(_Strict):
    min_conviction: float = Field(0.0, ge=0.0, le=1.0, description="Signals below this conviction are not traded.")


class FeeGate(_Strict):
    min_expected_edge_bps: float = Field(0.0, description="Signals expecting less edge than this (bps) are not traded.")


class Gates(_Strict):
    conviction: ConvictionGate = Field(default_factory=ConvictionGate)
    fee: FeeGate = Field(default_factory=FeeGate)


class SizingBucket(_Strict):
    min_conviction: float = Field(..., ge=0.0, le=1.0)
    max_conviction: float = Field(..., ge=0.0, le=1.0)
    multiplier: float = Field(1.0, gt=0.0, description="Position size multiplier for signals in this bucket.")


class Sizing(_Strict):
    buckets: list[SizingBucket] = Field(default_factory=list)


class BlockedCombo(_Strict):
    symbol: str
    direction: Direction
    since: Rfc3339 = Field(..., description="RFC 3339 time (event time) the combo was blocked.")
    reason: str
    trades: int
    win_rate: float
    pnl: float


class Allocation(_Strict):
    strategies: dict[str, float] = Field(default_factory=dict, description="Capital fraction per strategy; sums to 1.")
    symbols: dict[str, float] = Field(default_factory=dict, description="Capital fraction per symbol; sums to 1.")


class HoldPolicy(_Strict):
    target_s: int = Field(..., ge=1, description="Seconds to hold a position before considering an exit.")
    max_s: int = Field(..., ge=1, description="Seconds after which the position is closed.")


class HoldTime(_Strict):
    default: HoldPolicy = Field(
        default_factory=lambda: HoldPolicy(target_s=DEFAULT_HOLD_TARGET_S, max_s=DEFAULT_HOLD_MAX_S)
    )
    by_strategy: dict[str, HoldPolicy] = Field(default_factory=dict)


RegimeWeights = dict[str, dict[str, float]]


class Rule(_Strict):
    """A discovered trading rule (DESIGN.md section 11): signals matching every condition of ``when``."""

    id: str = Field(..., description="Stable id of the rule (the same conditions give the same id).")
    when: dict[str, str | int] = Field(
        ...,
        description=(
            "Conditions, all of which must hold: symbol, direction, strategy, regime, hour_bucket (UTC hour // 4, "
            "0-5), weekday (0 = Monday), conviction_bucket (index into the sizing buckets), or "
            "'sign:<component>' (+1 / -1: the sign of that component's score)."
        ),
    )
    effect: RuleEffect = Field(..., description="avoid: these signals lose; prefer: they pay.")
    stats: dict[str, float] = Field(
        default_factory=dict, description="The evidence: n, mean net return, t, p, q (Benjamini-Hochberg)."
    )
    since: Rfc3339 = Field(..., description="RFC 3339 event time the rule was first kept.")
    expires_at: Rfc3339 = Field(..., description="RFC 3339 event time after which it lapses unless evidence renews it.")


class ParamSections(_Strict):
    """The learned part of a document: what cycles change and rollbacks copy."""

    default_weight: float = Field(1.0, description="Weight of any component not listed in `weights`.")
    weights: dict[str, float] = Field(default_factory=dict, description="Weight per signal component (> 0).")
    signal_horizons: dict[str, str] = Field(
        default_factory=dict, description="Horizon where each component's EV is best."
    )
    gates: Gates = Field(default_factory=Gates)
    sizing: Sizing = Field(default_factory=Sizing)
    blocked_combos: list[BlockedCombo] = Field(default_factory=list)
    allocation: Allocation = Field(default_factory=Allocation)
    hold_time: HoldTime = Field(default_factory=HoldTime)
    weights_by_regime: RegimeWeights = Field(
        default_factory=dict,
        description="Weight per component per regime, listed only where significantly different from the pooled "
        "weight; signals without a regime (or a component not listed) use `weights`.",
    )
    direction_routing: dict[str, Route] = Field(
        default_factory=dict,
        description="Symbols whose signals should be taken in one direction only (the other loses with significance).",
    )
    rules: list[Rule] = Field(
        default_factory=list, description="Discovered rules, strongest first (at most max_rules)."
    )


PARAM_DIGITS = 6
"""Every float in a stored param document is rounded to this many decimals (here, and nowhere else)."""


def _round_floats(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, PARAM_DIGITS) if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round_floats(v) for v in value]
    if isinstance(value, BaseModel):
        return _round_floats(value.model_dump())
    return value


class ParamDocument(ParamSections):
    """One immutable version of a bot's parameters; every float rounded to 6 decimals."""

    # Rounded here, where every stored document is built, so no float noise (0.40409799999999996) reaches a bot.

    @model_validator(mode="before")
    @classmethod
    def _rounded(cls, data: Any) -> Any:
        return _round_floats(data) if isinstance(data, dict) else data

    bot_id: str
    version: int = Field(..., ge=1, description="+1 per change; 1 = defaults.")
    created_at: Rfc3339 = Field(..., description="RFC 3339 wall-clock time the version was made.")
    expires_at: Rfc3339 = Field(
        ...,
        description="RFC 3339: `created_at` plus the bot's `params_ttl`. Past it, clients treat the document as "
        "stale (the learning behind it is old); what stale means for trading is the bot's choice.",
    )
    source: ParamSource
    cycle_id: str | None = None


def with_section_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """A stored document with every section present: documents stored before a section existed get its default."""
    missing = [key for key in ParamSections.model_fields if key not in document]
    if not missing:
        return document
    defaults = ParamSections().model_dump(mode="json")
    return {**document, **{key: defaults[key] for key in missing}}


def expires_at_ms(created_at_ms: int, config: LearningConfig) -> int:
    """When a document made at ``created_at_ms`` expires: ``created_at`` + ``params_ttl`` (epoch ms)."""
    return created_at_ms + duration_seconds(config.params_ttl) * 1000


def default_sections(config: LearningConfig) -> ParamSections:
    """The sections of version 1: neutral weights, open gates, flat sizing over the configured buckets."""
    edges = config.conviction_buckets
    buckets = [SizingBucket(min_conviction=lo, max_conviction=hi, multiplier=1.0) for lo, hi in pairwise(edges)]
    return ParamSections(sizing=Sizing(buckets=buckets))
