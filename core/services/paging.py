"""Opaque cursors for list endpoints (``?limit=`` default 50, max 500)."""

from __future__ import annotations

import base64
import binascii

from core.errors import EdgeloopError, FieldError, invalid
from core.services.validation import INT4_MAX, ascii_int, is_storable_id

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:  # an empty `?cursor=` asks for the first page, as if absent
        return None
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None
    if not raw or not is_storable_id(raw):  # nothing this API issues holds NUL or is empty
        raise _bad_cursor()
    return raw


def _bad_cursor() -> EdgeloopError:
    return invalid(
        "invalid_cursor",
        "Invalid cursor",
        "cursor is not one this API returned",
        [FieldError(loc="cursor", msg="not a cursor returned by this API")],
    )


def decode_int_cursor(cursor: str | None, *, max_value: int = INT4_MAX) -> int | None:
    """A cursor holding a position (version, sequence number, offset): ASCII digits, at most ``max_value``
    (the column's range, so an out-of-range number is a 422, not a database error)."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    value = ascii_int(raw, max_value=max_value)
    if value is None:
        raise _bad_cursor()
    return value
