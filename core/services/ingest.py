"""Event ingestion (DESIGN.md section 5): parse, validate every event, store the batch atomically."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any, cast

import orjson
from pydantic import TypeAdapter, ValidationError

from core.errors import EdgeloopError, ErrorKind, FieldError, invalid, not_found
from core.schemas.events import Event, PriceEvent, SignalEvent, TradeEvent
from core.schemas.resources import IngestResult
from core.services.auth import Principal, require_bot
from core.services.context import ServiceContext
from core.services.metrics import EVENTS_DUPLICATE, EVENTS_INGESTED, EVENTS_REJECTED
from core.services.validation import check_utf8_body, field_errors
from core.store import repos
from core.store.db import retryable_conflict

_BATCH = TypeAdapter(list[Event])
log = logging.getLogger("edgeloop.ingest")


def _bad_body(detail: str) -> EdgeloopError:
    EVENTS_REJECTED.labels("invalid_body").inc()
    return EdgeloopError(ErrorKind.BAD_REQUEST, "invalid_body", "Body is not valid JSON", detail)


def _too_large(detail: str) -> EdgeloopError:
    EVENTS_REJECTED.labels("batch_too_large").inc()
    return EdgeloopError(ErrorKind.TOO_LARGE, "batch_too_large", "Batch too large", detail)


def _loads(text: bytes) -> Any:
    # orjson is fast but rejects NaN/Infinity tokens; the stdlib reads them, so such a batch
    # gets a 422 naming the event instead of a 400 for the whole body. The stdlib is given text
    # decoded strictly as UTF-8 (from bytes it would guess UTF-16), and what it read must encode
    # back to UTF-8: a lone surrogate escape ("\ud800") can be stored nowhere.
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = json.loads(text.decode("utf-8"))
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise json.JSONDecodeError("a string holds a lone UTF-16 surrogate escape", "", 0) from None
    return doc


def check_size(ctx: ServiceContext, n_bytes: int) -> None:
    limit = ctx.settings.max_body_bytes
    if n_bytes > limit:
        raise _too_large(f"body is {n_bytes} bytes; the limit is {limit} bytes per request")


def parse_json_batch(body: bytes) -> list[Any]:
    """``{"events": [...]}`` -> the raw event list; 400 if not JSON, 415 if not UTF-8, 422 if not that shape."""
    check_utf8_body(body)
    try:
        doc = _loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _bad_body(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"events"} or not isinstance(doc["events"], list):
        raise invalid(
            "invalid_batch",
            "Invalid batch",
            'body must be {"events": [...]}',
            [FieldError(loc="events", msg='body must be an object with one key, "events", holding a list')],
        )
    return doc["events"]


def parse_ndjson_batch(body: bytes) -> list[Any]:
    """One event per line (blank lines ignored); index = 0-based line number; 415 if not UTF-8."""
    check_utf8_body(body)
    events = []
    for number, line in enumerate(body.split(b"\n")):
        if not line.strip():
            continue
        try:
            events.append((number, _loads(line)))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise _bad_body(f"line {number} is not JSON: {exc}") from None
    # Keep line numbers as indices even when blank lines were skipped.
    if all(n == i for i, (n, _) in enumerate(events)):
        return [e for _, e in events]
    return _Sparse(events)


class _Sparse(list[Any]):
    """An event list that remembers each event's original line number."""

    def __init__(self, pairs: list[tuple[int, Any]]) -> None:
        super().__init__(e for _, e in pairs)
        self.lines = [n for n, _ in pairs]


def validate_batch(raw: list[Any], now_ms: int, max_events: int) -> list[SignalEvent | TradeEvent | PriceEvent]:
    """Validate every event; 422 lists each bad event by index and field, 413 over the count limit."""
    if len(raw) > max_events:
        raise _too_large(f"batch has {len(raw)} events; the limit is {max_events} per request")
    try:
        return _BATCH.validate_python(raw, context={"now_ms": now_ms})
    except ValidationError as exc:
        errors = field_errors(exc, batch=True)
        if isinstance(raw, _Sparse):
            errors = [FieldError(e.loc, e.msg, raw.lines[e.index] if e.index is not None else None) for e in errors]
        bad = sorted({e.index for e in errors if e.index is not None})
        EVENTS_REJECTED.labels("invalid_events").inc()
        raise invalid(
            "invalid_events",
            "Invalid events",
            f"{len(bad)} of {len(raw)} events are invalid; nothing was stored",
            errors,
        ) from None


STORE_ATTEMPTS = 4


async def _store(
    ctx: ServiceContext, bot_id: str, rows: dict[str, list[dict[str, Any]]], watermark: int | None
) -> dict[str, int]:
    """One transaction: the batch's rows (duplicates skipped) and the bot's watermark and counters."""
    accepted: dict[str, int] = {}
    async with ctx.sessions.begin() as session:
        if await repos.get_bot(session, bot_id) is None:
            raise not_found("bot", bot_id)
        accepted["signal"] = await repos.insert_signals(session, bot_id, rows["signal"])
        accepted["trade"] = await repos.insert_ignoring_duplicates(
            session, repos.TRADES, rows["trade"], ("bot_id", "event_id")
        )
        accepted["price"] = await repos.insert_ignoring_duplicates(
            session, repos.PRICES, rows["price"], ("bot_id", "symbol", "ts")
        )
        if watermark is not None:
            await repos.record_ingest(session, bot_id, accepted, watermark)
    return accepted


def _rows(bot_id: str, events: list[SignalEvent | TradeEvent | PriceEvent]) -> dict[str, list[dict[str, Any]]]:
    """The validated events as rows per type, in place: each dict already carries every column."""
    rows: dict[str, list[dict[str, Any]]] = {"signal": [], "trade": [], "price": []}
    for ev in events:
        row = cast(dict[str, Any], ev)
        row["bot_id"] = bot_id
        rows[row.pop("type")].append(row)
    return rows


async def ingest_events(ctx: ServiceContext, principal: Principal, bot_id: str, raw: list[Any]) -> IngestResult:
    """Store a batch atomically: all valid events are written (duplicates skipped) or none are."""
    require_bot(principal, bot_id)
    events = validate_batch(raw, ctx.clock(), ctx.settings.max_batch_events)
    rows = _rows(bot_id, events)
    components = [row["components"] for row in rows["signal"]]  # insert_signals replaces them by ids
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            accepted = await _store(ctx, bot_id, rows, max((ev["ts"] for ev in events), default=None))
            break
        except Exception as exc:
            # Rows go in key order, so concurrent batches do not deadlock each other; should PostgreSQL still
            # abort one (a deadlock with other work, a serialization failure), the batch is stored again.
            if attempt == STORE_ATTEMPTS or not retryable_conflict(exc):
                raise
            log.warning("ingest for %s retried after %s (attempt %d)", bot_id, type(exc).__name__, attempt)
            for row, names in zip(rows["signal"], components, strict=True):
                row.pop("component_ids", None)
                row.pop("component_values", None)
                row["components"] = names
            await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
    for kind, n in accepted.items():
        EVENTS_INGESTED.labels(kind).inc(n)
        EVENTS_DUPLICATE.labels(kind).inc(len(rows[kind]) - n)
    total = sum(accepted.values())
    return IngestResult(accepted=total, duplicates=len(events) - total)
