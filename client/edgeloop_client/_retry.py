"""Backoff and how to read a failed response."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits ``uniform(0.5, 1) * min(max_s, base_s * 2**n)``."""

    base_s: float = 0.2
    max_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        computed: float = min(self.max_s, self.base_s * 2.0 ** min(attempt, 30)) * random.uniform(0.5, 1.0)
        if retry_after is None:
            return computed
        # The server said when: never earlier than that, plus a little jitter so bots do not return in step.
        return retry_after + random.uniform(0, min(1.0, self.base_s))


def retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None

    return max(0.0, when.timestamp() - time.time())


def problem(response: httpx.Response) -> dict[str, Any]:
    """The response's problem+json body, or a stand-in built from the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"status": response.status_code, "code": "http_error", "detail": response.text[:500]}


def bad_indices(body: dict[str, Any]) -> set[int] | None:
    """Indices of the events a 422 names; None when it names none (the batch itself is malformed)."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return None
    found = {e["index"] for e in errors if isinstance(e, dict) and isinstance(e.get("index"), int)}
    return found or None
