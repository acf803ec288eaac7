"""Event time: integer epoch milliseconds inside, RFC 3339 (UTC, 'Z') at the edges."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import WithJsonSchema

Rfc3339 = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""A time as served: RFC 3339 in UTC with milliseconds (``2026-01-02T03:00:00.000Z``)."""

# RFC 3339 section 5.6 exactly: full-date "T" full-time, with an offset ("Z" or +hh:mm). Python's
# fromisoformat alone also reads ISO 8601 forms outside it (week dates "2026-W01-5", the basic format
# "20260102T030405Z", non-ASCII digits), which must be rejected, not stored.
_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<frac>[0-9]{1,9}))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def ms_to_rfc3339(ms: int) -> str:
    """``1767322800000`` -> ``"2026-01-02T03:00:00.000Z"``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def rfc3339_to_ms(text: str) -> int:
    """Parse an RFC 3339 time that carries an offset; ValueError for naive or malformed times."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("not an RFC 3339 time like 2026-01-02T03:04:05.123Z")
    if match["offset"] is None:
        raise ValueError("time has no UTC offset; add 'Z' or '+00:00'")
    offset = "+00:00" if match["offset"] in "Zz" else match["offset"]
    frac = (match["frac"] or "")[:6]  # milliseconds are kept; fromisoformat reads at most microseconds
    try:
        dt = datetime.fromisoformat(f"{match['date']}T{match['time']}{'.' + frac if frac else ''}{offset}")
    except ValueError:
        raise ValueError("not an RFC 3339 time like 2026-01-02T03:04:05.123Z (no such date or time)") from None
    return round(dt.timestamp() * 1000)
