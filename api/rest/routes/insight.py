"""Learning health and reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.insight import (
    ComboReportRow,
    CorrelationReportRow,
    GateReportRow,
    HealthRead,
    MissedReportRow,
    ReportPage,
    RuleReportRow,
    SignalReportRow,
    SliceReportRow,
)
from core.services import insight
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT, decode_int_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["learning"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]


@router.get("/bots/{bot}/health", summary="Learning health: is the loop fed, resolving, learning and running?")
async def get_health(ctx: Ctx, caller: Caller, bot: str) -> HealthRead:
    return HealthRead.model_validate(await insight.get_health(ctx, caller, bot))


def _page(report: dict[str, Any], limit: int, cursor: str | None) -> dict[str, Any]:
    rows = report["rows"]
    start = decode_int_cursor(cursor) or 0
    end = start + limit
    return {
        "items": rows[start:end],
        "next_cursor": encode_cursor(end) if end < len(rows) else None,
        "cycle_id": report["cycle_id"],
        "as_of": report["as_of"],
    }


@router.get("/bots/{bot}/reports/signals", summary="Per component x horizon: n, EV (bps), hit rate, t-stat, weight")
async def signals_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[SignalReportRow]:
    return ReportPage[SignalReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "signals"), limit, cursor)
    )


@router.get("/bots/{bot}/reports/gates", summary="Per gate: blocked count, PnL saved vs missed (counterfactual)")
async def gates_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[GateReportRow]:
    return ReportPage[GateReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "gates"), limit, cursor)
    )


@router.get("/bots/{bot}/reports/combos", summary="Per symbol+direction: trades, win rate (Wilson), PnL, blocked?")
async def combos_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[ComboReportRow]:
    return ReportPage[ComboReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "combos"), limit, cursor)
    )


@router.get("/bots/{bot}/reports/missed", summary="Top missed opportunities: blocked signals that would have paid")
async def missed_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[MissedReportRow]:
    return ReportPage[MissedReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "missed"), limit, cursor)
    )


@router.get(
    "/bots/{bot}/reports/rules",
    summary="Daily rules: every candidate tested (n, EV, t, p), kept or rejected and why",
)
async def rules_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[RuleReportRow]:
    return ReportPage[RuleReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "rules"), limit, cursor)
    )


@router.get(
    "/bots/{bot}/reports/slices",
    summary="Per component x (symbol x direction | strategy): EV, t, n, shrunk EV, flagged where it differs",
)
async def slices_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[SliceReportRow]:
    return ReportPage[SliceReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "slices"), limit, cursor)
    )


@router.get(
    "/bots/{bot}/reports/correlation",
    summary="Per pair of components: correlation of their scores and of their aligned returns, with n",
)
async def correlation_report(
    ctx: Ctx, caller: Caller, bot: str, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> ReportPage[CorrelationReportRow]:
    return ReportPage[CorrelationReportRow].model_validate(
        _page(await insight.get_report(ctx, caller, bot, "correlation"), limit, cursor)
    )
