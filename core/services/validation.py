"""Turn pydantic validation errors into the one error shape."""

from __future__ import annotations

from pydantic import ValidationError

from core.errors import FieldError


def field_errors(exc: ValidationError, *, batch: bool = False, prefix: str = "") -> list[FieldError]:
    """Map pydantic errors to FieldErrors; in a batch, ``loc[0]`` is the event index and the union tag is dropped."""
    out = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        index = None
        if batch and loc and isinstance(loc[0], int):
            index = loc.pop(0)
            if loc and loc[0] in ("signal", "trade", "price"):
                loc.pop(0)
        path = ".".join(str(p) for p in loc) or (prefix.rstrip(".") if prefix else "")
        if prefix and loc:
            path = prefix + path
        msg = err["msg"]
        if err["type"] == "union_tag_invalid":
            path, msg = path or "type", "type must be one of 'signal', 'trade', 'price'"
        elif err["type"] == "union_tag_not_found":
            path, msg = "type", "field required: type ('signal', 'trade' or 'price')"
        elif err["type"] in ("model_attributes_type", "dict_type") and not loc:
            path, msg = "", "each event must be a JSON object"
        out.append(FieldError(loc=path, msg=msg, index=index))
    return out
