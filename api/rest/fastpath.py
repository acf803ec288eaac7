"""``GET /v1/bots/{bot}/params`` answered from the in-process caches, ahead of FastAPI's routing.

Bots poll this route. Through FastAPI it costs about five times a trivial endpoint, nearly all of it
routing and dependency resolution (bearer scheme, path, query and header parameters), while the answer
is already in memory. When the caller's key is in the auth cache, the bot's current document is in the
params cache (both within their TTLs), the caller may read that bot and there is no query string, this
middleware sends the response the route would build, from the same service functions and the same
response builder. Anything else (no or unknown key, another bot, an expired entry, ``?wait=``, other
methods and paths) goes on to the route, which answers it in full and refills the caches.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.rest.routes import params as params_routes
from core.services import params
from core.services.auth import cached_principal
from core.services.context import ServiceContext

_PATH = re.compile(r"/v1/bots/([^/]+)/params")
_ROUTE = next(r for r in params_routes.router.routes if isinstance(r, APIRoute) and r.name == "get_params")


class ParamsFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _cached_response(scope) if scope["type"] == "http" else None
        if response is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE  # what the router would have set (the metrics middleware labels by it)
        await response(scope, receive, send)


def _cached_response(scope: Scope) -> Response | None:
    if scope["method"] != "GET" or scope["query_string"] or scope.get("root_path"):
        return None
    match = _PATH.fullmatch(scope["path"])
    if match is None:
        return None
    ctx: ServiceContext = scope["app"].state.ctx
    headers = Headers(scope=scope)
    principal = cached_principal(ctx, headers.get("authorization"))
    if principal is None:
        return None
    current = params.cached_current_params(ctx, principal, match.group(1))
    if current is None:
        return None
    known = params_routes.known_version(headers.get("if-none-match"))
    return params_routes.params_response(params.unless_known(current, known), known)
