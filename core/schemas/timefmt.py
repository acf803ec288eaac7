"""Event time: integer epoch milliseconds inside, RFC 3339 (UTC, 'Z') at the edges."""

from __future__ import annotations

from datetime import UTC, datetime


def ms_to_rfc3339(ms: int) -> str:
    """``1767322800000`` -> ``"2026-01-02T03:00:00.000Z"``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def rfc3339_to_ms(text: str) -> int:
    """Parse an RFC 3339 time that carries an offset; ValueError for naive or malformed times."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an RFC 3339 time like 2026-01-02T03:04:05.123Z") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("time has no UTC offset; add 'Z' or '+00:00'")
    return round(dt.timestamp() * 1000)
