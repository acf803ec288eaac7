"""Request counts and latency by route template, as pure ASGI middleware (no body buffering)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.services.metrics import HTTP_LATENCY, HTTP_REQUESTS

# (method, route, status) -> its labelled counter and histogram: .labels() costs more than the update itself.
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    series = _SERIES.get((method, route, status))
    if series is None:
        series = HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route)
        _SERIES[(method, route, status)] = series
    return series


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            requests, latency = _series(scope["method"], getattr(scope.get("route"), "path", "unmatched"), status)
            requests.inc()
            latency.observe(time.perf_counter() - start)
