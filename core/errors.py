"""One error shape for every door.

A service raises ``EdgeloopError`` with a stable snake_case ``code`` and a ``kind``;
REST and gRPC each map kinds to their status numbers in one table (``api/``), so the
same failure carries the same ``code`` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorKind(StrEnum):
    BAD_REQUEST = "bad_request"  # the body could not be read at all
    INVALID = "invalid"  # the body was read, some fields are wrong
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # a body in a media type or encoding the API does not read
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FieldError:
    """One bad field: ``index`` is the event's position in a batch (None outside batches)."""

    loc: str
    msg: str
    index: int | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"loc": self.loc, "msg": self.msg}
        if self.index is not None:
            out = {"index": self.index, **out}
        return out


@dataclass
class EdgeloopError(Exception):
    """A failure a client can act on. Never carries a stack trace to the client."""

    kind: ErrorKind
    code: str
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


SHOWN_CHARS = 100  # an identifier echoed in an error is cut to this (a 10k-char id would fill gRPC trailers)


def shown(ident: str) -> str:
    """``ident`` as echoed in an error message: repr, at most ``SHOWN_CHARS`` characters of it."""
    return repr(ident) if len(ident) <= SHOWN_CHARS else repr(ident[:SHOWN_CHARS]) + f"... ({len(ident)} chars)"


def not_found(what: str, ident: str) -> EdgeloopError:
    return EdgeloopError(
        ErrorKind.NOT_FOUND, f"{what}_not_found", f"{what.capitalize()} not found", f"No {what} {shown(ident)}."
    )


def forbidden(detail: str) -> EdgeloopError:
    return EdgeloopError(ErrorKind.FORBIDDEN, "admin_required", "Admin key required", detail)


def unauthenticated(detail: str) -> EdgeloopError:
    return EdgeloopError(ErrorKind.UNAUTHENTICATED, "unauthenticated", "Missing or invalid API key", detail)


def invalid(code: str, title: str, detail: str, errors: list[FieldError] | None = None) -> EdgeloopError:
    return EdgeloopError(ErrorKind.INVALID, code, title, detail, errors or [])


def queue_unavailable(
    detail: str = "The job queue (Redis) is unavailable; nothing was queued. Retry later.",
) -> EdgeloopError:
    return EdgeloopError(ErrorKind.UNAVAILABLE, "queue_unavailable", "Queue unavailable", detail)


def conflict(code: str, title: str, detail: str) -> EdgeloopError:
    return EdgeloopError(ErrorKind.CONFLICT, code, title, detail)
