"""LearningService: each method parses its request, calls one core service, and maps the result.

Auth and errors are handled by the interceptor (``api/grpc/interceptor.py``); ``caller()`` is the
authenticated principal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import grpc

from api.grpc import convert
from api.grpc.interceptor import StreamFailed, caller
from core.errors import EdgeloopError, FieldError, invalid
from core.schemas.resources import IngestResult
from core.services import activations, cycles, ingest, insight, params
from core.services.auth import Principal
from core.services.context import ServiceContext
from core.store.db import DATABASE_FAILURES, unavailable_error
from proto.edgeloop.v1 import learning_pb2, learning_pb2_grpc

WATCH_WAIT_S = 30.0  # how long one long-poll round of WatchParams lasts before it starts the next
_DOC_CACHE_MAX = 4096

Context = grpc.aio.ServicerContext[Any, Any]


class LearningService(learning_pb2_grpc.LearningServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        # bot -> (version, its GetParamsResponse): one conversion per version, shared by every caller.
        self._params: dict[str, tuple[int, learning_pb2.GetParamsResponse]] = {}

    # --- events ---------------------------------------------------------------------------------

    async def _ingest(self, principal: Principal, request: learning_pb2.IngestEventsRequest) -> IngestResult:
        ingest.check_size(self._ctx, request.ByteSize())
        raw = convert.events_to_dicts(request.events)
        return await ingest.ingest_events(self._ctx, principal, request.bot_id, raw)

    async def IngestEvents(
        self, request: learning_pb2.IngestEventsRequest, context: Context
    ) -> learning_pb2.IngestEventsResponse:
        result = await self._ingest(caller(), request)
        return learning_pb2.IngestEventsResponse(accepted=result.accepted, duplicates=result.duplicates)

    async def StreamEvents(
        self, request_iterator: AsyncIterator[learning_pb2.IngestEventsRequest], context: Context
    ) -> learning_pb2.StreamEventsResponse:
        principal = caller()
        total = learning_pb2.StreamEventsResponse()
        async for request in request_iterator:
            try:
                try:
                    result = await self._ingest(principal, request)
                except DATABASE_FAILURES as failure:
                    outage = unavailable_error(failure)
                    if outage is None:
                        raise
                    raise outage from failure
            except EdgeloopError as exc:
                # Each batch is its own transaction: the ones before this one are stored. Say so, and send
                # their counts in the trailers (edgeloop-committed-*), so the client resumes from here.
                detail = exc.detail.replace("; nothing was stored", "; nothing of this batch was stored")
                committed = (
                    f"{total.batches} earlier batch(es) were stored "
                    f"({total.accepted} accepted, {total.duplicates} duplicates)"
                )
                raise StreamFailed(
                    dataclasses.replace(exc, detail=f"batch {total.batches}: {detail}; {committed}"),
                    total,
                ) from None
            total.accepted += result.accepted
            total.duplicates += result.duplicates
            total.batches += 1
        return total

    # --- params ---------------------------------------------------------------------------------

    def _response(self, bot_id: str, current: params.CurrentParams) -> learning_pb2.GetParamsResponse:
        cached = self._params.get(bot_id)
        if cached is not None and cached[0] == current.version:
            return cached[1]
        response = learning_pb2.GetParamsResponse(
            version=current.version, document=convert.param_document(current.document)
        )
        if len(self._params) >= _DOC_CACHE_MAX:
            self._params.clear()
        self._params[bot_id] = (current.version, response)
        return response

    def _note_active(self, principal: Principal, bot_id: str, context: Context) -> None:
        # The REST header's gRPC form; recorded only when it changed or is due (activations.note_header).
        for key, value in context.invocation_metadata() or ():
            if key == activations.HEADER and isinstance(value, str):
                activations.note_header(self._ctx, principal, bot_id, value)

    async def GetParams(
        self, request: learning_pb2.GetParamsRequest, context: Context
    ) -> learning_pb2.GetParamsResponse:
        principal = caller()
        self._note_active(principal, request.bot_id, context)
        known = request.known_version if request.HasField("known_version") else None
        current = await params.get_params_if_newer(self._ctx, principal, request.bot_id, known, request.wait_s)
        if current is None:
            return learning_pb2.GetParamsResponse(version=known, not_modified=True)
        return self._response(request.bot_id, current)

    async def WatchParams(
        self, request: learning_pb2.WatchParamsRequest, context: Context
    ) -> AsyncIterator[learning_pb2.WatchParamsResponse]:
        principal = caller()
        self._note_active(principal, request.bot_id, context)
        known = request.known_version if request.HasField("known_version") else 0
        while True:
            current = await params.wait_for_newer(self._ctx, principal, request.bot_id, known, WATCH_WAIT_S)
            if current.version > known:
                known = current.version
                yield learning_pb2.WatchParamsResponse(document=self._response(request.bot_id, current).document)

    # --- health and cycles ----------------------------------------------------------------------

    async def GetHealth(
        self, request: learning_pb2.GetHealthRequest, context: Context
    ) -> learning_pb2.GetHealthResponse:
        return convert.health_message(await insight.get_health(self._ctx, caller(), request.bot_id))

    async def TriggerCycle(
        self, request: learning_pb2.TriggerCycleRequest, context: Context
    ) -> learning_pb2.TriggerCycleResponse:
        kind = convert.CYCLE_KIND.get(request.kind)
        if kind not in ("continuous", "comprehensive"):
            raise invalid(
                "invalid_request",
                "Invalid request",
                "bad field(s): kind",
                [FieldError(loc="kind", msg="kind must be CYCLE_KIND_CONTINUOUS or CYCLE_KIND_COMPREHENSIVE")],
            )
        queued = await cycles.trigger_cycle(self._ctx, caller(), request.bot_id, kind, request.dry_run)
        return learning_pb2.TriggerCycleResponse(cycle_id=queued.cycle_id, status=convert.queued_status())

    async def ReportActivation(
        self, request: learning_pb2.ReportActivationRequest, context: Context
    ) -> learning_pb2.Activation:
        if not 1 <= request.version < 2**31:
            raise invalid(
                "invalid_request",
                "Invalid request",
                "bad field(s): version",
                [FieldError(loc="version", msg="version must be >= 1")],
            )
        done = await activations.report_activation(self._ctx, caller(), request.bot_id, request.version)
        return learning_pb2.Activation(**done.model_dump())

    async def GetCycle(self, request: learning_pb2.GetCycleRequest, context: Context) -> learning_pb2.Cycle:
        return convert.cycle_message(await cycles.get_cycle(self._ctx, caller(), request.bot_id, request.cycle_id))
