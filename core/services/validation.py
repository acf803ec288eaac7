"""Turn pydantic validation errors into the one error shape."""

from __future__ import annotations

from pydantic import ValidationError

from core.errors import FieldError
from core.schemas.events import NO_NUL

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
