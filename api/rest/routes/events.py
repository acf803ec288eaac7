"""Event ingestion: JSON or NDJSON batches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES, Problem
from core.schemas.resources import IngestResult
from core.services import ingest
from core.services.validation import ascii_int

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)

_EXAMPLE = {
    "events": [
        {"type": "price", "symbol": "BTCUSDT", "ts": "2026-01-02T03:04:05.000Z", "price": 43000.5},
        {
            "type": "signal",
            "event_id": "sig-1",
            "ts": "2026-01-02T03:04:05.000Z",
            "symbol": "BTCUSDT",
            "direction": "long",
            "price": 43000.5,
            "conviction": 0.72,
            "components": {"ofi": 1.3, "momentum": -0.2},
            "decision": "executed",
            "strategy": "momo",
            "expected_edge_bps": 12.0,
        },
        {
            "type": "trade",
            "event_id": "tr-1",
            "ts": 1767323345000,
            "opened_at": "2026-01-02T03:04:05.000Z",
            "symbol": "BTCUSDT",
            "direction": "long",
            "entry_price": 43000.5,
            "exit_price": 43100.0,
            "quantity": 0.1,
            "pnl": 9.1,
            "fees": 0.85,
            "strategy": "momo",
            "signal_event_id": "sig-1",
        },
    ]
}

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'A batch: `{"events": [...]}` as application/json, or one event per line as '
        "application/x-ndjson. Event types: `signal`, `trade`, `price` (see DESIGN.md section 5).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["events"],
                    "additionalProperties": False,
                    "properties": {"events": {"type": "array", "items": {"type": "object"}}},
                },
                "example": _EXAMPLE,
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


async def _read_body(ctx: Ctx, request: Request) -> bytes:
    declared = request.headers.get("content-length")
    size = ascii_int(declared) if declared is not None else None
    if size is not None:
        ingest.check_size(ctx, size)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        ingest.check_size(ctx, size)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/bots/{bot}/events",
    summary="Ingest a batch of events (atomic; duplicates are skipped)",
    openapi_extra=_BODY_DOC,
    responses={
        400: {"model": Problem, "description": "Body is not JSON."},
        413: {"model": Problem, "description": "Too many events or bytes."},
    },
)
async def post_events(ctx: Ctx, caller: Caller, bot: str, request: Request) -> IngestResult:
    body = await _read_body(ctx, request)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        raw = ingest.parse_ndjson_batch(body)
    else:
        raw = ingest.parse_json_batch(body)
    return await ingest.ingest_events(ctx, caller, bot, raw)
