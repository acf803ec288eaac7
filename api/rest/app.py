"""The FastAPI application: routers, the problem+json handler, metrics, and the process lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.rest import problems
from api.rest.metrics import MetricsMiddleware
from api.rest.routes import bots, events, params, system
from core import __version__
from core.services.context import ServiceContext
from core.settings import Settings
from core.store.db import ensure_migrated

DESCRIPTION = """Learning-as-a-service for trading bots.

Bots post signals, closed trades and price marks; learning cycles turn them into parameters
(signal weights, gates, sizing, blocked combos, allocation, hold time); bots fetch the current
document with `GET /v1/bots/{bot}/params`. Authenticate with `Authorization: Bearer <key>`.
Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The lifespan opens the database (refusing an unmigrated one) and closes it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = ServiceContext.create(settings)
        try:
            await ensure_migrated(ctx.engine)
            app.state.ctx = ctx
            yield
        finally:
            await ctx.close()

    app = FastAPI(title="edgeloop", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    app.add_middleware(MetricsMiddleware)
    for module in (system, bots, events, params):
        app.include_router(module.router)
    return app
