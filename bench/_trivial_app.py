"""A trivial FastAPI app for bench/params.py: the floor of FastAPI + uvicorn on this machine.

``GET /fixed`` returns fixed bytes (no auth, no middleware, no I/O); ``GET /readyz`` lets the
bench harness wait for it the same way it waits for edgeloop.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

BODY = b'{"bot_id":"bench-bot","version":1,"default_weight":1.0,"weights":{},"ok":true}'

app = FastAPI()


@app.get("/fixed")
async def fixed() -> Response:
    return Response(BODY, media_type="application/json")


@app.get("/readyz")
async def readyz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
