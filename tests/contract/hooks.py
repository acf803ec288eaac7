"""Schemathesis hooks (SCHEMATHESIS_HOOKS): how to send an application/x-ndjson body.

The document declares the NDJSON events body as a string (one JSON event per line); schemathesis has no
serializer for the media type, so this sends the generated value as the raw body.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()
