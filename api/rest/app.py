"""The FastAPI application: routers, the problem+json handler, metrics, and the process lifecycle."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.rest import problems, spec
from api.rest.activation_header import ActivationHeader
from api.rest.bodies import StrictBodies
from api.rest.docs import install_docs
from api.rest.fastpath import ParamsFastPath
from api.rest.metrics import MetricsMiddleware
from api.rest.routes import activations, admin, audit, bots, cycles, events, insight, params, system
from core import __version__
from core.services import notify
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import ensure_migrated
from workers.queue import open_job_queue

DESCRIPTION = """Learning-as-a-service for trading bots.

Bots post signals, closed trades and price marks; learning cycles turn them into parameters
(signal weights, gates, sizing, blocked combos, allocation, hold time); bots fetch the current
document with `GET /v1/bots/{bot}/params`. Authenticate with `Authorization: Bearer <key>`.
Errors are RFC 9457 `application/problem+json` with a stable `code`.

- Who may call an operation is its `x-edgeloop-role`: `public` needs no key; `bot` takes the bot's own
  key or an admin key (another bot's key gets 404, never 403); `admin` needs an admin key (a bot key on
  its own bot gets 403 `admin_required`).
- Times are RFC 3339 (`format: date-time`, UTC with milliseconds when served). Event times may also be
  integer epoch milliseconds.
- Param endpoints send `ETag: "<version>"`; `If-None-Match` answers 304 while it is current, and `?wait=N`
  long-polls up to N seconds: give the HTTP client a read timeout above N.
"""


def _freeze_startup_heap() -> None:
    # What start-up imported and built lives as long as the process. Left to the collector, every full
    # collection walks it again (~180k objects, ~100 ms on the 2-core box, every few seconds under load),
    # pausing every request in flight: that was the p99 of GET /params. Frozen, a full collection is ~2 ms.
    # Once per process: a test session builds many apps, and what is frozen is never collected.
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None, *, ctx: ServiceContext | None = None) -> FastAPI:
    """Build the app.

    Without ``ctx`` the lifespan owns the process: it opens the database (refusing an unmigrated one),
    attaches the job queue (arq with Redis, else the embedded runner) and closes both. With ``ctx``
    (``edgeloop serve``, which shares one context with the gRPC server) the caller owns them.
    """
    settings = settings or (ctx.settings if ctx else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ctx is not None:
            app.state.ctx = ctx
            _freeze_startup_heap()
            yield
            return
        own = ServiceContext.create(settings)
        try:
            await ensure_migrated(own.engine)
            await notify.start_listener(own)  # PostgreSQL: other processes' versions and revocations, at once
            app.state.ctx = own
            async with open_job_queue(own):
                _freeze_startup_heap()
                yield
        finally:
            await own.close()

    app = FastAPI(
        title="edgeloop",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the installed package instead of a CDN (api/rest/docs.py)
        redoc_url=None,
    )
    install_docs(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = spec.build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    problems.install(app)
    app.add_middleware(ParamsFastPath)
    app.add_middleware(StrictBodies)
    app.add_middleware(ActivationHeader)  # outside the fast path, which answers most of the polls that carry it
    app.add_middleware(MetricsMiddleware)  # added last: outermost, so it also counts what the fast path answers
    for module in (system, bots, events, params, activations, cycles, insight, audit, admin):
        app.include_router(module.router)
    return app
