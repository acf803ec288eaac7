"""``Edgeloop-Active-Version: N`` on any request: the bot says which param version it runs.

Pure ASGI and outside the params fast path, so the polls that fast path answers are seen too. Requests
without the header pass straight through. With it, the report goes to ``activations.note_header`` as
soon as the caller's key is known: at once when it is in the auth cache, else after a successful response
(which verified it). That function writes only when the version changed or ``activation_touch_s`` has
passed: no database write per poll.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.services import activations
from core.services.auth import cached_principal
from core.services.context import ServiceContext

_HEADER = activations.HEADER.encode()
_BOT_PATH = re.compile(r"/v1/bots/([^/]+)(?:/.*)?")


class ActivationHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = _header(scope) if scope["type"] == "http" else None
        if value is None or _note(scope, value):  # a key in the auth cache is noted at once (long-polls)
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        if status < 400:
            _note(scope, value)


def _header(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return bytes(value).decode("latin-1")
    return None


def _note(scope: Scope, value: str) -> bool:
    """Hand the report on if the caller's key is known without the database; False if it is not (yet)."""
    ctx: ServiceContext = scope["app"].state.ctx
    authorization = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None)
    principal = cached_principal(ctx, authorization)
    if principal is None:
        return False
    match = _BOT_PATH.fullmatch(scope["path"])
    activations.note_header(ctx, principal, match.group(1) if match else None, value)
    return True
