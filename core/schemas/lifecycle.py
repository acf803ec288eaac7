"""Data lifecycle views: how old and how big a bot's raw events are (/health ``data``, /v1/status)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.schemas.timefmt import Rfc3339


class DataStats(BaseModel):
    """Age and size of a bot's raw events, and its retention."""

    retention: str | None = Field(..., description="The configured `retention`; null: derived (see `retention_s`).")
    retention_s: int = Field(..., description="Retention in force, seconds of event time back from the watermark.")
    oldest_event: Rfc3339 | None = Field(..., description="Earliest stored event time of any raw-event table.")
    oldest: dict[str, Rfc3339 | None] = Field(..., description="Earliest event time per table.")
    rows: dict[str, int] = Field(
        ..., description="Stored rows per table: signals, trades, price_marks, signal_outcomes."
    )
    last_retention_run: Rfc3339 | None = Field(..., description="When the retention job last completed; null: never.")
    retention_cutoff: Rfc3339 | None = Field(..., description="Event time before which that run removed everything.")
