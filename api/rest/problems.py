"""RFC 9457 problem+json: every error leaves the REST API through here."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from api.errors import HTTP_STATUS, RETRY_AFTER_S
from core.errors import EdgeloopError, FieldError
from core.store.db import DATABASE_FAILURES, unavailable_error

log = logging.getLogger("edgeloop.api")

PROBLEM_TYPE = "https://edgeloop.dev/problems/"


class ProblemFieldError(BaseModel):
    index: int | None = Field(None, description="0-based position of the event in the batch (NDJSON: the line).")
    loc: str = Field(..., description="Field path inside the event or body.", examples=["components.ofi"])
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable snake_case `code`."""

    type: str = Field(..., examples=["https://edgeloop.dev/problems/invalid_events"])
    title: str = Field(..., examples=["Invalid events"])
    status: int = Field(..., examples=[422])
    detail: str = Field(..., examples=["1 of 500 events are invalid; nothing was stored"])
    code: str = Field(..., examples=["invalid_events"])
    errors: list[ProblemFieldError] | None = None


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="edgeloop"'}
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json", headers=headers)


def error_response(exc: EdgeloopError) -> Response:
    """The problem+json response of a service error (status from the one kind table, Retry-After if any)."""
    retry_after = RETRY_AFTER_S.get(exc.kind)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem_response(HTTP_STATUS[exc.kind], exc.code, exc.title, exc.detail, exc.errors, headers)


async def _edgeloop_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, EdgeloopError)
    return error_response(exc)


async def _database_failure(request: Request, exc: Exception) -> Response:
    error = unavailable_error(exc)
    if error is None:
        raise exc  # a bug, not an outage: the 500 handler logs it
    log.warning("database unavailable on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(error)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] if loc[0] == "body" else loc
        errors.append(FieldError(loc=".".join(loc), msg=str(err["msg"])))
    names = ", ".join(e.loc for e in errors)
    return problem_response(422, "invalid_request", "Invalid request", f"bad field(s): {names}", errors)


_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed", 400: "invalid_body", 413: "body_too_large"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    title = code.replace("_", " ").capitalize()
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app, request.url.path))}
    return problem_response(exc.status_code, code, title, str(exc.detail), headers=headers)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at ``path``. Starlette's 405 names only the first route whose path
    matched (``Allow: POST`` on /v1/bots, which also has GET); RFC 9110 wants them all."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = [
            (compile_path(route.path_format)[0], set(route.methods or ()))
            for route in iter_route_contexts(app.routes)
            if isinstance(route.original_route, APIRoute)
        ]
        app.state.allow_table = table
    return sorted({method for pattern, route_methods in table if pattern.match(path) for method in route_methods})


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # The server drops the connection after a 500 (the exception propagates past the response): say so,
    # so a keep-alive client opens a new one for its next request instead of failing on a reset.
    return problem_response(
        500, "internal_error", "Internal error", "The server failed; the error was logged.", headers=CLOSE
    )


CLOSE = {"Connection": "close"}


def install(app: FastAPI) -> None:
    app.add_exception_handler(EdgeloopError, _edgeloop_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for failure in DATABASE_FAILURES:
        app.add_exception_handler(failure, _database_failure)
    app.add_exception_handler(Exception, _unexpected)


RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}


def _documented(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": Problem, "content": {"application/problem+json": {}}, "description": description, **extra}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("Missing or invalid API key."),
    404: _documented("Unknown bot or resource (also another bot's resource)."),
    422: _documented("Invalid input; `errors` names each bad field."),
    503: _documented("The database is unavailable (`database_unavailable`); retry later.", headers=RETRY_AFTER_HEADER),
}
