"""Durations written the way traders write them: ``"90s"``, ``"5m"``, ``"1h"``, ``"7d"``."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^([1-9][0-9]{0,6})([smhdw])$")


def duration_seconds(text: str) -> int:
    """Return the number of seconds in ``text`` (``"5m"`` -> 300); ValueError if malformed."""
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like '90s', '5m', '1h' or '7d'")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _check(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[
    str,
    AfterValidator(_check),
    WithJsonSchema({"type": "string", "pattern": _PATTERN.pattern, "examples": ["5m", "1h"]}),
]
"""A string duration, validated on input and kept as written (so documents echo it back)."""
