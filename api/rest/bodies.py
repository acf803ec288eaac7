"""Request bodies the API reads, checked ahead of routing (pure ASGI middleware).

A body is JSON under a JSON media type (or NDJSON on the events route), uncompressed and UTF-8;
anything else is a 415 naming what to send, before a route (or FastAPI's lenient JSON reading,
which guesses UTF-16 and takes lone surrogate escapes) sees it. Small JSON bodies of the other
routes are parsed once here with the strict parser, so a body that is not JSON is a 400 and no
string the database cannot store gets further. The events route parses its (large) bodies itself
with the same rules (``core.services.ingest``).
"""

from __future__ import annotations

import re

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rest.problems import error_response, problem_response
from core.errors import EdgeloopError
from core.services.validation import check_body_headers, check_utf8_body

_EVENTS = re.compile(r"/v1/bots/[^/]+/events")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
MAX_SMALL_BODY = 1 << 20  # the JSON bodies other than events are tiny; this bounds what is buffered here


class StrictBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if (length is not None and length.strip() == "0") or (length is None and "transfer-encoding" not in headers):
            await self.app(scope, receive, send)  # no body: the route says whether it needs one
            return
        events = _EVENTS.fullmatch(scope["path"]) is not None
        try:
            check_body_headers(headers.get("content-type"), headers.get("content-encoding"), ndjson=events)
        except EdgeloopError as exc:
            await error_response(exc)(scope, receive, send)
            return
        if events:
            await self.app(scope, receive, send)
            return
        body, messages = await _read(receive)
        if len(body) > MAX_SMALL_BODY:
            detail = f"body is {len(body)} bytes; the limit is {MAX_SMALL_BODY} bytes for this route"
            await problem_response(413, "body_too_large", "Body too large", detail)(scope, receive, send)
            return
        try:
            check_utf8_body(body)
            orjson.loads(body)
        except EdgeloopError as exc:
            await error_response(exc)(scope, receive, send)
            return
        except orjson.JSONDecodeError as exc:
            await problem_response(400, "invalid_body", "Body is not valid JSON", f"body is not JSON: {exc}")(
                scope, receive, send
            )
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False) or size > MAX_SMALL_BODY:
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
