"""Opaque cursors for list endpoints (``?limit=`` default 50, max 500)."""

from __future__ import annotations

import base64
import binascii

from core.errors import EdgeloopError, FieldError, invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None
    if not raw:
        raise _bad_cursor()
    return raw


def _bad_cursor() -> EdgeloopError:
    return invalid(
        "invalid_cursor",
        "Invalid cursor",
        "cursor is not one this API returned",
        [FieldError(loc="cursor", msg="not a cursor returned by this API")],
    )


def decode_int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    if not raw.isdigit():
        raise _bad_cursor()
    return int(raw)
