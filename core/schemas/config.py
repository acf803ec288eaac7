"""Per-bot learning configuration (DESIGN.md section 6)."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from core.schemas.duration import Duration, duration_seconds

RETENTION_MARGIN_S = 86_400
"""What the derived ``retention`` keeps beyond what cycles read: one day, so a late backfill, a paused
schedule or a lookback raised a little still find their events."""

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _pair(value: Any) -> Any:
    # JSON has no tuples: strict validation takes a two-element list as the pair it stands for.
    return tuple(value) if isinstance(value, list) else value


class Schedule(BaseModel):
    """When the learning jobs of one bot run (UTC)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "yes" is not true, 4546.0 not an int

    enabled: bool = Field(True, description="Run scheduled jobs for this bot at all.")
    resolve_every: Duration = Field("10m", description="Interval of outcome resolution.")
    continuous_every: Duration = Field("12h", description="Interval of continuous cycles.")
    comprehensive_at: str = Field(
        "07:00",
        description="Daily UTC time (HH:MM) of the comprehensive cycle.",
        json_schema_extra={"pattern": _HHMM.pattern},
    )

    @field_validator("comprehensive_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be a UTC time of day written HH:MM, e.g. '07:00'")
        return value


class LearningConfig(BaseModel):
    """Everything a bot can tune about how it learns. Defaults are the documented ones."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "yes" is not true, 4546.0 not an int

    horizons: list[Duration] = Field(
        default_factory=lambda: ["1m", "5m", "15m", "30m", "1h"],
        min_length=1,
        max_length=12,
        description="Horizons at which each signal's outcome is measured.",
    )
    min_outcomes: int = Field(
        50, ge=2, le=1_000_000, description="Resolved outcomes of a component at a horizon before its weight may move."
    )
    min_t: float = Field(3.0, gt=0, le=100, description="|t| that counts as significant.")
    max_step: float = Field(
        0.20, gt=0, le=1.0, description="Largest relative change of any weight or multiplier in one cycle."
    )
    weight_bounds: Annotated[tuple[float, float], BeforeValidator(_pair)] = Field(
        (0.05, 5.0), description="Lowest and highest weight a cycle may set."
    )
    lookback: Duration = Field("7d", description="Window, counted back from the bot's watermark, that cycles read.")
    combo_min_trades: int = Field(20, ge=1, description="Trades of a symbol+direction before it may be blocked.")
    combo_max_win_rate: float = Field(0.40, gt=0, lt=1, description="Win rate below which a combo may be blocked.")
    conviction_buckets: list[float] = Field(
        default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0],
        min_length=2,
        max_length=21,
        description="Edges of the conviction buckets used by sizing and the conviction gate.",
    )
    auto_apply: bool = Field(True, description="false = apprentice mode: cycles only propose, an admin applies.")
    params_ttl: Duration = Field("7d", description="A document's `expires_at` is its `created_at` plus this.")
    evidence_ttl: Duration = Field(
        "3d",
        description="Event time without significant evidence after which a moved weight or multiplier decays "
        "toward its default (within max_step per cycle).",
    )
    ev_half_life: Duration | None = Field(
        None, description="Half-life (event time) of the weights learner's outcome weighting; null = equal weights."
    )
    redundancy_threshold: float = Field(
        0.8, gt=0, lt=1, description="Score correlation above which two components are estimated jointly."
    )
    rule_min_support: int = Field(100, ge=2, description="Fewest outcomes a candidate rule must cover to be tested.")
    rule_fdr: float = Field(0.05, gt=0, lt=1, description="Benjamini-Hochberg false discovery rate of the daily rules.")
    max_rules: int = Field(20, ge=0, le=1000, description="Most rules a document carries, strongest first.")
    schedule: Schedule = Field(default_factory=Schedule, description="When scheduled jobs run.")
    retention: Duration | None = Field(
        None,
        description="How long raw events (signals, trades, price marks, outcomes) are kept, counted back from the "
        "bot's watermark; older ones are removed by the retention job (learned state is kept). null = derived: "
        "lookback + longest horizon + its tolerance max(h/2, 60 s) + 1 day. Never shorter than lookback + longest "
        "horizon + tolerance, what a cycle reads.",
    )

    @field_validator("horizons")
    @classmethod
    def _distinct_horizons(cls, value: list[str]) -> list[str]:
        seconds = [duration_seconds(h) for h in value]
        if len(set(seconds)) != len(seconds):
            raise ValueError("horizons must be distinct")
        return [h for _, h in sorted(zip(seconds, value, strict=True))]

    @field_validator("weight_bounds")
    @classmethod
    def _bounds(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not (0 < low <= 1.0 <= high):
            raise ValueError("weight_bounds must be [low, high] with 0 < low <= 1 <= high")
        return value

    @field_validator("conviction_buckets")
    @classmethod
    def _edges(cls, value: list[float]) -> list[float]:
        if value[0] != 0.0 or value[-1] != 1.0:
            raise ValueError("conviction_buckets must start at 0 and end at 1")
        if any(b <= a for a, b in pairwise(value)):
            raise ValueError("conviction_buckets must be strictly increasing")
        return value

    @field_validator("retention")
    @classmethod
    def _retention_covers_reads(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Fields validate in declaration order: lookback and horizons are in info.data when they were valid.
        if value is None or "lookback" not in info.data or "horizons" not in info.data:
            return value
        lookback = duration_seconds(info.data["lookback"])
        longest = max(duration_seconds(h) for h in info.data["horizons"])
        floor = retention_floor_s(lookback, longest)
        if duration_seconds(value) < floor:
            raise ValueError(
                f"retention {value} ({duration_seconds(value)} s) is shorter than what a cycle reads: lookback "
                f"{info.data['lookback']} + longest horizon {longest} s + its tolerance {tolerance_s(longest)} s "
                f"= {floor} s; set at least that, or null for the default ({floor + RETENTION_MARGIN_S} s)"
            )
        return value

    def retention_floor_seconds(self) -> int:
        """The shortest retention allowed: lookback + longest horizon + that horizon's tolerance."""
        return retention_floor_s(self.lookback_seconds(), max(self.horizon_seconds()))

    def retention_seconds(self) -> int:
        """How long raw events are kept (seconds, event time back from the watermark): the explicit
        ``retention`` or the derived default, the floor plus ``RETENTION_MARGIN_S``."""
        if self.retention is not None:
            return duration_seconds(self.retention)
        return self.retention_floor_seconds() + RETENTION_MARGIN_S

    def horizon_seconds(self) -> list[int]:
        """The horizons in seconds, ascending."""
        return [duration_seconds(h) for h in self.horizons]

    def lookback_seconds(self) -> int:
        """The lookback window in seconds."""
        return duration_seconds(self.lookback)


def tolerance_s(horizon_s: int) -> int:
    """How late the mark that resolves an outcome at ``horizon_s`` may be: max(h/2, 60 s) (DESIGN.md section 8)."""
    return max((horizon_s + 1) // 2, 60)


def retention_floor_s(lookback_s: int, longest_horizon_s: int) -> int:
    """Event time a cycle reads back from the watermark, plus the horizon and tolerance its outcomes need."""
    return lookback_s + longest_horizon_s + tolerance_s(longest_horizon_s)
