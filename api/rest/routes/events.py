"""Event ingestion: JSON or NDJSON batches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.resources import IngestResult
from core.services import ingest
from core.services.validation import ascii_int

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)

# The schema (EventBatch: the event TypedDicts) and the example are filled in by api/rest/spec.py.
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'A batch: `{"events": [...]}` as application/json, or one event per line as '
        "application/x-ndjson. Event types: `signal`, `trade`, `price` (see DESIGN.md section 5).",
        "content": {"application/json": {}, "application/x-ndjson": {"schema": {"type": "string"}}},
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
)
async def post_events(ctx: Ctx, caller: Caller, bot: str, request: Request) -> IngestResult:
    body = await _read_body(ctx, request)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        raw = ingest.parse_ndjson_batch(body)
    else:
        raw = ingest.parse_json_batch(body)
    return await ingest.ingest_events(ctx, caller, bot, raw)
