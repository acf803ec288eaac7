"""Input rules shared by every door: pydantic errors in the one error shape, identifiers, numbers."""

from __future__ import annotations

import re

from pydantic import ValidationError

from core.errors import EdgeloopError, ErrorKind, FieldError, not_found, shown
from core.schemas.events import NO_NUL
from core.schemas.resources import BOT_ID_PATTERN

_EVENT_TAGS = ("signal", "trade", "price")


def field_errors(exc: ValidationError, *, batch: bool = False, prefix: str = "") -> list[FieldError]:
    """Map pydantic errors to FieldErrors; in a batch, ``loc[0]`` is the event index and the union tag is dropped."""
    out = []
    for err in exc.errors(include_url=False):
        loc: list[int | str] = list(err["loc"])
        index: int | None = None
        if batch and loc and isinstance(loc[0], int):
            index = loc[0]
            loc = loc[1:]
            if loc and loc[0] in _EVENT_TAGS:
                loc = loc[1:]
        path = prefix + ".".join(str(p) for p in loc) if loc else prefix.rstrip(".")
        msg = err["msg"]
        if err["type"] == "union_tag_invalid":
            path, msg = "type", "type must be one of 'signal', 'trade', 'price'"
        elif err["type"] == "union_tag_not_found":
            path, msg = "type", "field required: type ('signal', 'trade' or 'price')"
        elif err["type"] == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NO_NUL:
            msg = "must not contain the NUL character (\\u0000)"
        elif err["type"] in ("model_attributes_type", "dict_type") and not loc:
            path, msg = "", "each event must be a JSON object"
        out.append(FieldError(loc=path, msg=msg, index=index))
    return out


# --- identifiers and numbers from paths, queries, headers and cursors ---------------------------------
# One rule each, used by every door (REST path/query/header values, gRPC request fields), and applied
# before any database call: what cannot name a stored row is "not found", never a database error.

BOT_ID = re.compile(BOT_ID_PATTERN)
INT4_MAX = 2**31 - 1  # versions, attempts: PostgreSQL `integer`
INT8_MAX = 2**63 - 1  # sequence numbers, ids, times: PostgreSQL `bigint`
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
MAX_ID_CHARS = 128  # every stored identifier (cycle, key, event ids) is at most this long


def ascii_int(text: str, *, max_value: int = INT8_MAX) -> int | None:
    """``text`` as a non-negative integer when it is 1-19 ASCII decimal digits and at most ``max_value``.

    ``str.isdigit`` also accepts "²" or Arabic-Indic digits, which ``int()`` then rejects or reads; this
    accepts exactly what a client of this API would write.
    """
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= max_value else None


def is_bot_id(value: str) -> bool:
    """The bot id rule of DESIGN.md section 4 (``[a-z0-9][a-z0-9_-]{0,62}``)."""
    return BOT_ID.fullmatch(value) is not None


def is_storable_id(value: str) -> bool:
    """A value that can name a stored row: 1-128 characters, no NUL, no lone surrogate (not UTF-8)."""
    if not 0 < len(value) <= MAX_ID_CHARS or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_stored_id(value: str, what: str) -> None:
    """404 ``{what}_not_found`` for an id no row can have (checked before the database sees it)."""
    if not is_storable_id(value):
        raise not_found(what, value)


def require_version_number(version: int) -> None:
    """404 ``version_not_found`` for a version no document can have (versions are >= 1 and int4)."""
    if not 1 <= version <= INT4_MAX:
        raise not_found("version", str(version))


# --- request bodies -------------------------------------------------------------------------------

JSON_MEDIA_TYPES = ("application/json",)  # plus any application/*+json (merge-patch)
NDJSON_MEDIA_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def unsupported(code: str, title: str, detail: str) -> EdgeloopError:
    return EdgeloopError(ErrorKind.UNSUPPORTED, code, title, detail)


def check_body_headers(content_type: str | None, content_encoding: str | None, *, ndjson: bool = False) -> str:
    """The body's media type (lower case), or 415 for a body the API does not read.

    Bodies are JSON (RFC 8259: UTF-8) under a JSON media type, or NDJSON where the route takes it;
    nothing else is guessed at. Compressed bodies are not supported: a clear 415 rather than a
    confusing "not JSON".
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding != "identity":
        raise unsupported(
            "unsupported_content_encoding",
            "Unsupported Content-Encoding",
            f"Content-Encoding {shown(encoding)} is not supported; send the body uncompressed",
        )
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    accepted = JSON_MEDIA_TYPES + (NDJSON_MEDIA_TYPES if ndjson else ())
    if media not in accepted and not (media.startswith("application/") and media.endswith("+json")):
        allowed = "application/json" + (" or application/x-ndjson" if ndjson else "")
        raise unsupported(
            "unsupported_media_type",
            "Unsupported media type",
            f"Content-Type {shown(media) if media else '(none)'} is not accepted; send {allowed}",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise unsupported(
                "unsupported_charset", "Unsupported charset", "JSON bodies must be UTF-8 (RFC 8259); send charset=utf-8"
            )
    return media


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_GZIP_MAGIC = b"\x1f\x8b"


def check_utf8_body(body: bytes) -> None:
    """415 for a body in UTF-16/32 (byte-order mark or NUL bytes, which UTF-8 JSON never holds raw).

    Python's ``json.loads`` would guess such an encoding and read it; the contract is UTF-8 only.
    """
    if body.startswith(_GZIP_MAGIC):
        raise unsupported(
            "unsupported_content_encoding",
            "Unsupported Content-Encoding",
            "the body is gzip-compressed; compressed bodies are not supported, send it uncompressed",
        )
    head = body[:4]
    if head.startswith(_UTF16_BOMS) or b"\x00" in head:
        raise unsupported(
            "unsupported_charset", "Unsupported charset", "the body looks UTF-16 or UTF-32; JSON bodies must be UTF-8"
        )
