"""Health and report documents (DESIGN.md sections 4 and 9), as served."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from core.schemas.enums import ComponentStatus, CycleStatus, Direction, HealthLevel, KnownGate
from core.schemas.lifecycle import DataStats
from core.schemas.timefmt import Rfc3339

T = TypeVar("T")


class HealthProblem(BaseModel):
    """One reason the loop is not healthy (distinct from an HTTP error's ``Problem``)."""

    code: str = Field(..., description="Stable code, e.g. `insufficient_outcomes`, `no_price_marks`, `cycle_failed`.")
    message: str = Field(..., description="What is wrong and what to do, in one or two sentences.")
    detail: dict[str, Any] = Field(..., description="The numbers behind the message.")


class HealthCounts(BaseModel):
    signals: int
    trades: int
    prices: int
    outcomes_resolved: int
    outcomes_pending: int
    outcomes_gap: int = Field(..., description="Outcomes whose price mark never came within tolerance.")


class ComponentHealth(BaseModel):
    name: str
    outcomes: int = Field(..., description="Resolved outcomes at its best-covered horizon (lookback window).")
    required: int = Field(..., description="`min_outcomes`: outcomes needed before its weight may move.")
    status: ComponentStatus
    weight: float


class CycleBrief(BaseModel):
    cycle_id: str
    status: CycleStatus
    finished_at: Rfc3339 | None


class HealthEvidence(BaseModel):
    cycle_id: str = Field(
        ..., description="The succeeded cycle the components, pending count and marks check come from."
    )
    as_of: Rfc3339 = Field(..., description="That cycle's event-time now (the bot's watermark when it ran), RFC 3339.")


class HealthRead(BaseModel):
    level: HealthLevel
    problems: list[HealthProblem]
    counts: HealthCounts
    components: list[ComponentHealth]
    last_cycles: dict[str, CycleBrief | None]
    next_runs: dict[str, Rfc3339 | None] = Field(
        ..., description="Next scheduled run per job (null: schedule disabled)."
    )
    evidence: HealthEvidence | None = Field(
        ..., description="Where `components` and `outcomes_pending` come from; null before the first cycle."
    )
    data: DataStats | None = Field(None, description="Age and size of the bot's raw events, and its retention.")
    current_version: int = Field(..., description="The param version served now.")
    active_version: int | None = Field(
        None, description="The version the bot last reported running (Edgeloop-Active-Version); null: never reported."
    )
    active_key_id: str | None = Field(None, description="The key that made that report.")
    active_last_seen: Rfc3339 | None = Field(None, description="When that report was made (RFC 3339).")


class ReportPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= to get the next page; null on the last page.")
    cycle_id: str = Field(..., description="The comprehensive cycle that computed this report.")
    as_of: Rfc3339 = Field(..., description="That cycle's event-time now (the bot's watermark when it ran), RFC 3339.")


class SignalReportRow(BaseModel):
    component: str
    horizon: str
    n: int = Field(..., description="Resolved outcomes of signals carrying the component.")
    ev_bps: float | None = Field(None, description="Mean component-aligned return, basis points.")
    hit_rate: float | None
    t: float | None = Field(None, description="t-statistic (Newey-West when outcomes overlap).")
    naive_t: float | None = Field(None, description="t-statistic ignoring overlap, for comparison.")
    weight: float = Field(..., description="Current weight.")


class GateReportRow(BaseModel):
    gate: KnownGate | str
    blocked: int = Field(..., description="Signals this gate blocked in the lookback window.")
    resolved: int = Field(..., description="Of those, how many have an outcome at the evaluation horizon.")
    ev_bps: float | None = Field(None, description="Mean would-be return of the blocked signals, bps.")
    hit_rate: float | None
    saved_return_bps: float = Field(..., description="Sum of would-be losses avoided, bps.")
    missed_return_bps: float = Field(..., description="Sum of would-be gains given up, bps.")
    saved_pnl: float | None = Field(None, description="Losses avoided in quote currency (null without trades to size).")
    missed_pnl: float | None = Field(None, description="Gains given up in quote currency.")
    net_pnl: float | None = Field(None, description="missed - saved: > 0 means the gate cost money.")
    horizon: str = Field(..., description="Horizon the counterfactual is scored at.")


class ComboReportRow(BaseModel):
    symbol: str
    direction: Direction
    trades: int
    win_rate: float | None
    wilson_low: float | None = Field(None, description="95% Wilson interval of the win rate, low end.")
    wilson_high: float | None
    pnl: float
    blocked: bool


class RuleReportRow(BaseModel):
    id: str = Field(..., description="The rule id these conditions have (as in the document's `rules`).")
    when: dict[str, str | int] = Field(..., description="The candidate's conditions (1 or 2).")
    n: int = Field(..., description="Resolved signals matching it (executed and blocked).")
    ev_bps: float | None = Field(None, description="Their mean return at the evaluation horizon after fees, bps.")
    t: float | None = Field(None, description="t-statistic of the significance layer (overlap-robust).")
    p: float | None = Field(None, description="Its two-sided p-value (Benjamini-Hochberg runs over all rows).")
    kept: bool = Field(..., description="True when the candidate is a rule of the document.")
    rejected_because: str | None = Field(None, description="Why it is not a rule (null when kept).")


class SliceReportRow(BaseModel):
    component: str
    horizon: str = Field(
        ..., description="The component's horizon (its `signal_horizons` entry, else the evaluation one)."
    )
    slice_by: str = Field(..., description="`symbol_direction` or `strategy`.")
    symbol: str | None = None
    direction: Direction | None = None
    strategy: str | None = None
    n: int = Field(..., description="Resolved signals carrying the component in this slice.")
    ev_bps: float | None = Field(None, description="Mean of sign(score) x return in the slice, bps.")
    t: float | None = Field(None, description="Its t-statistic (significance layer, overlap-robust).")
    pooled_ev_bps: float | None = Field(None, description="The component's EV over all its signals, bps.")
    shrunk_ev_bps: float | None = Field(
        None, description="The slice's EV shrunk toward the pool (empirical Bayes): what to believe for it."
    )
    shrink: float | None = Field(None, description="Weight of the slice's own EV in the shrunk figure (0..1).")
    contrast_t: float | None = Field(None, description="t of slice EV minus the rest of the component's EV.")
    contrast_p: float | None = Field(None, description="Its two-sided p-value.")
    eligible: bool = Field(..., description="Enough outcomes in the slice and in the rest to be tested.")
    flagged: bool = Field(..., description="The slice differs from the rest, Holm across all eligible slices.")


class CorrelationReportRow(BaseModel):
    component_a: str
    component_b: str
    n: int = Field(..., description="Signals carrying both components (non-zero scores).")
    score_corr: float | None = Field(None, description="Pearson correlation of their scores (null below 3).")
    n_returns: int = Field(..., description="Of those, signals with an outcome at the evaluation horizon.")
    return_corr: float | None = Field(
        None, description="Correlation of their aligned returns sign(score) x return (null below 3)."
    )


class MissedReportRow(BaseModel):
    event_id: str
    symbol: str
    direction: Direction
    ts: Rfc3339 = Field(..., description="Signal time, RFC 3339.")
    blocked_by: KnownGate | str
    horizon: str
    would_be_return_bps: float | None
    would_be_pnl: float | None = Field(None, description="At the bot's typical notional, net of typical fees.")
