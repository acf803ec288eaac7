"""Auth and error mapping for every LearningService method, in one place.

The interceptor wraps each ``/edgeloop.v1.LearningService/*`` handler: it resolves the
``authorization: Bearer <key>`` metadata to a principal (``core.services.auth.authenticate``,
the REST rule), makes it available to the method through :func:`caller`, and turns an
``EdgeloopError`` into an abort with the status from ``api.errors.GRPC_STATUS`` plus trailing
metadata (see proto/edgeloop/v1/errors.proto):

- ``edgeloop-code``: the stable code (the REST problem's ``code``);
- ``grpc-status-details-bin``: an ``RpcStatus`` (wire-compatible with ``google.rpc.Status``)
  holding one ``ErrorDetail`` with code, title, detail and the per-field/per-event errors.

A database that cannot be reached (``core.store.db.unavailable_error``) is answered UNAVAILABLE
"database_unavailable"; any other exception is logged and answered INTERNAL "internal_error",
with no internals.
Health and reflection calls pass through untouched (no key needed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError

from api.errors import GRPC_STATUS
from core.errors import EdgeloopError, ErrorKind, FieldError
from core.services.auth import Principal, authenticate
from core.services.context import ServiceContext
from core.services.metrics import GRPC_REQUESTS
from core.store.db import unavailable_error
from proto.edgeloop.v1 import errors_pb2, learning_pb2

log = logging.getLogger("edgeloop.grpc")

SERVICE_NAME: str = learning_pb2.DESCRIPTOR.services_by_name["LearningService"].full_name
CODE_KEY = "edgeloop-code"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
INTERNAL_DETAIL = "The server failed; the error was logged."

_caller: ContextVar[Principal] = ContextVar("edgeloop_grpc_caller")


def caller() -> Principal:
    """The authenticated principal of the call being served (set by the interceptor)."""
    return _caller.get()


def _authorization(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else value.decode()
    return None


def error_trailers(
    status: grpc.StatusCode, code: str, title: str, detail: str, errors: list[FieldError] | None = None
) -> tuple[tuple[str, str | bytes], ...]:
    """The trailing metadata of a failed call: ``edgeloop-code`` and ``grpc-status-details-bin``.

    Kept within ``TRAILER_BUDGET`` bytes (gRPC's default limit on metadata is 8 KiB, and a call whose
    trailers exceed the client's limit fails RESOURCE_EXHAUSTED, hiding the real error): echoed values
    are cut to ``MAX_DETAIL_CHARS``/``MAX_FIELD_CHARS``, and field errors beyond the budget are left out,
    the detail saying how many.
    """
    detail, violations = _fitted(detail, errors)
    body = errors_pb2.ErrorDetail(code=code, title=title, detail=detail, errors=violations)
    packed = any_pb2.Any()
    packed.Pack(body)
    rpc_status = errors_pb2.RpcStatus(code=status.value[0], message=detail, details=[packed])
    return (CODE_KEY, code), (STATUS_DETAILS_KEY, rpc_status.SerializeToString())


TRAILER_BUDGET = 4096  # bytes of error detail in the trailers (binary metadata is sent base64: x4/3)
MAX_DETAIL_CHARS = 512
MAX_FIELD_CHARS = 200


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fitted(detail: str, errors: list[FieldError] | None) -> tuple[str, list[errors_pb2.FieldViolation]]:
    """The detail and the field errors that fit ``TRAILER_BUDGET``; the detail says how many were left out."""
    detail = _cut(detail, MAX_DETAIL_CHARS)
    violations = [
        errors_pb2.FieldViolation(index=e.index, loc=_cut(e.loc, MAX_FIELD_CHARS), msg=_cut(e.msg, MAX_FIELD_CHARS))
        for e in errors or ()
    ]
    kept, size = 0, len(detail.encode()) * 2 + 128  # the detail travels twice (message and status)
    for violation in violations:
        size += violation.ByteSize() + 4
        if size > TRAILER_BUDGET:
            break
        kept += 1
    if kept < len(violations):
        detail = f"{detail} ({len(violations) - kept} more field errors not shown)"
    return detail, violations[:kept]


def error_detail(error: grpc.aio.AioRpcError | grpc.RpcError) -> errors_pb2.ErrorDetail | None:
    """Client side: the ErrorDetail of a failed call, or None if it carries none."""
    trailers = error.trailing_metadata() or ()  # type: ignore[attr-defined]
    for key, value in trailers:
        if key == STATUS_DETAILS_KEY:
            rpc_status = errors_pb2.RpcStatus.FromString(value)
            for packed in rpc_status.details:
                detail = errors_pb2.ErrorDetail()
                if packed.Unpack(detail):
                    return detail
    return None


class StreamFailed(Exception):
    """A client stream failed after some of it was committed: the error, and what was stored before it."""

    def __init__(self, error: EdgeloopError, committed: learning_pb2.StreamEventsResponse) -> None:
        super().__init__(str(error))
        self.error = error
        self.committed = committed


COMMITTED_KEYS = ("edgeloop-committed-batches", "edgeloop-committed-accepted", "edgeloop-committed-duplicates")


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any],
    exc: EdgeloopError,
    extra: tuple[tuple[str, str | bytes], ...] = (),
) -> None:
    status = GRPC_STATUS[exc.kind]
    detail, _ = _fitted(exc.detail, exc.errors)
    await context.abort(status, detail, error_trailers(status, exc.code, exc.title, exc.detail, exc.errors) + extra)


@asynccontextmanager
async def _guard(ctx: ServiceContext, context: grpc.aio.ServicerContext[Any, Any], method: str) -> AsyncIterator[None]:
    status = grpc.StatusCode.OK
    try:
        _caller.set(await authenticate(ctx, _authorization(context)))
        yield
    except grpc.aio.AbortError:
        status = _code_of(context)
        raise
    except asyncio.CancelledError:
        status = grpc.StatusCode.CANCELLED
        raise
    except EdgeloopError as exc:
        status = GRPC_STATUS[exc.kind]
        await _abort(context, exc)
    except StreamFailed as failed:
        done = failed.committed
        counts = (done.batches, done.accepted, done.duplicates)
        await _abort(context, failed.error, tuple((k, str(v)) for k, v in zip(COMMITTED_KEYS, counts, strict=True)))
    except Exception as exc:
        outage = unavailable_error(exc)
        if outage is not None:
            status = GRPC_STATUS[outage.kind]
            log.warning("database unavailable in %s", method, exc_info=exc)
            await _abort(context, outage)
        else:
            log.exception("unhandled error in %s", method)
            status = grpc.StatusCode.INTERNAL
            await context.abort(
                status, INTERNAL_DETAIL, error_trailers(status, "internal_error", "Internal error", INTERNAL_DETAIL)
            )
    finally:
        GRPC_REQUESTS.labels(method.rsplit("/", 1)[-1], status.name).inc()


def _code_of(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    return next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)


Behavior = Callable[..., Any]


@dataclass(frozen=True)
class _Undecodable:
    """A request message that failed to parse (e.g. a string field with bad UTF-8)."""

    reason: str


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    # grpc answers a message it cannot parse UNKNOWN, with protobuf's text and no edgeloop-code; parse
    # here instead and let the call answer INVALID_ARGUMENT "invalid_body", the REST code for such a body.
    if deserialize is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError as exc:
            return _Undecodable(str(exc))

    return parse


def _checked(request: Any) -> Any:
    if isinstance(request, _Undecodable):
        raise EdgeloopError(
            ErrorKind.BAD_REQUEST,
            "invalid_body",
            "Body is not valid",
            f"the request message is invalid: {request.reason}",
        )
    return request


async def _checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _checked(request)


def _wrap(ctx: ServiceContext, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    streamed_in = handler.stream_unary is not None or handler.stream_stream is not None

    def incoming(request: Any) -> Any:
        return _checked_stream(request) if streamed_in else _checked(request)

    def unary(behavior: Callable[..., Awaitable[Any]]) -> Behavior:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            async with _guard(ctx, context, method):
                return await behavior(incoming(request), context)

        return call

    def streaming(behavior: Callable[..., AsyncIterator[Any]]) -> Behavior:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            async with _guard(ctx, context, method):
                async for response in behavior(incoming(request), context):
                    yield response

        return call

    codec = {
        "request_deserializer": _tolerant(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **codec)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **codec)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(streaming(handler.unary_stream), **codec)
    return grpc.stream_stream_rpc_method_handler(streaming(handler.stream_stream), **codec)


class EdgeloopInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates and maps errors for LearningService; other services pass through."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._prefix = f"/{SERVICE_NAME}/"

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or not method.startswith(self._prefix):
            return handler
        return _wrap(self._ctx, handler, method)
