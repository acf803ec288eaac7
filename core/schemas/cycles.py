"""Learning cycles over the API (DESIGN.md section 8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.schemas.enums import CycleKind, CycleStatus
from core.schemas.timefmt import Rfc3339


class CycleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: CycleKind = Field("continuous", description="`continuous`, or `comprehensive` (adds the slower learners).")
    dry_run: bool = Field(
        False, description="Only propose: store the changes on the cycle record, make no version. Bot keys: true only."
    )


class CycleQueued(BaseModel):
    cycle_id: str = Field(..., description="Id of the queued cycle; poll GET .../cycles/{cycle_id}.")
    status: Literal["queued"] = Field("queued", description="Always `queued`: the cycle runs in a worker.")


class ChangeRead(BaseModel):
    path: str = Field(..., description="Dotted path in the param document.", examples=["weights.ofi"])
    old: Any = Field(None, description="Value in the version the proposal was made against.")
    new: Any = Field(None, description="Proposed value.")
    reason: str = Field(..., description="Why, in a sentence a trader understands.")
    stats: dict[str, Any] = Field(default_factory=dict, description="The numbers behind it (n, EV, t-stat, ...).")


class CycleRead(BaseModel):
    cycle_id: str
    bot_id: str
    kind: CycleKind
    dry_run: bool = Field(..., description="A dry run only proposes; apply it with POST .../apply.")
    status: CycleStatus = Field(..., description="queued -> running -> succeeded | failed.")
    queued_at: Rfc3339 = Field(..., description="RFC 3339 wall-clock time the cycle was queued.")
    started_at: Rfc3339 | None = Field(None, description="When a worker started it (latest attempt).")
    finished_at: Rfc3339 | None = Field(None, description="When it succeeded or failed.")
    inputs: dict[str, int] = Field(
        default_factory=dict, description="What the cycle read: counts of signals, trades, outcomes, ..."
    )
    changes: list[ChangeRead] = Field(default_factory=list, description="The proposal: changes with reasons.")
    applied_version: int | None = Field(
        None, description="Version the proposal became (auto-applied or applied by an admin); null if not applied."
    )
    base_version: int | None = Field(
        None, description="Version the proposal was computed against; applying it after another version is a 409."
    )
    error: str | None = Field(None, description="Why the cycle failed.")
    requested_by: str | None = Field(None, description="Key id that asked for it; `system` for scheduled cycles.")
