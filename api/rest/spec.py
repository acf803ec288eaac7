"""The OpenAPI document: FastAPI's, completed from the operation table (api/rest/operations.py).

FastAPI derives paths, parameters and models from the routes; this adds what a client generator
needs and FastAPI cannot know: hand-chosen operation ids, every error status under the media type
actually sent (one ``Problem`` component), ETag/304 on the param endpoints, the event union from the
very TypedDicts ingestion validates with, the LearningConfig on create/read/patch, one named
component per enum (core/schemas/enums.py), short component names, descriptions, examples and the
``x-edgeloop-role`` of each operation.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import TypeAdapter

from api.rest.operations import OPERATIONS, TAGS, Op
from core.schemas.enums import ENUMS
from core.schemas.events import Event
from core.schemas.resources import BOT_ID_PATTERN

REF = "#/components/schemas/"
PROBLEM_JSON = "application/problem+json"

_ERRORS: dict[int, str] = {
    400: "The body is not JSON (`invalid_body`).",
    401: "Missing, invalid or revoked API key (`unauthenticated`).",
    403: "This key may not do this (`admin_required`).",
    404: "No such bot or resource (`bot_not_found`, ...); another bot's resources answer 404 too.",
    409: "Conflict with the current state.",
    413: "Too many events or bytes in one request (`batch_too_large`).",
    415: "The body's Content-Type is not one this operation reads (`unsupported_media_type`).",
    422: "Invalid input (`invalid_request`, `invalid_events`, ...): `errors[{index, loc, msg}]` names each bad "
    "field (`index`: the event's position in a batch).",
    503: "The database or the job queue is unavailable (`database_unavailable`, `queue_unavailable`); nothing "
    "was changed. Retry after `Retry-After` seconds.",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": '`Bearer realm="edgeloop"`.', "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}},
}
_422_EXAMPLE = {
    "type": "https://edgeloop.dev/problems/invalid_events",
    "title": "Invalid events",
    "status": 422,
    "detail": "1 of 3 events are invalid; nothing was stored",
    "code": "invalid_events",
    "errors": [{"index": 1, "loc": "conviction", "msg": "Input should be less than or equal to 1"}],
}
_422_REQUEST_EXAMPLE = {
    "type": "https://edgeloop.dev/problems/invalid_request",
    "title": "Invalid request",
    "status": 422,
    "detail": "bad field(s): limit",
    "code": "invalid_request",
    "errors": [{"loc": "limit", "msg": "Input should be less than or equal to 500"}],
}
_ETAG = {
    "ETag": {
        "description": 'The document\'s version, quoted (`"3"`): send it back as `If-None-Match`.',
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}


def build(app: FastAPI) -> dict[str, Any]:
    """The complete OpenAPI document of ``app`` (served at /openapi.json, exported as openapi.yaml)."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
        separate_input_output_schemas=False,
    )
    schemas: dict[str, Any] = spec["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_events(schemas)
    _add_config_patch(schemas)
    # BotCreate.config skips model validation (the service validates it after the admin check), which
    # also made pydantic inline the config's schema: point it at the component instead.
    schemas["BotCreate"]["properties"]["config"]["anyOf"] = [{"$ref": REF + "LearningConfig"}, {"type": "null"}]
    for route in iter_route_contexts(app.routes):  # included routers' routes, with their prefixes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        op = OPERATIONS.get(route.name)
        if op is None:
            raise LookupError(f"route {route.name!r} ({route.path}) has no entry in api/rest/operations.py")
        for method in route.methods:
            _complete(spec["paths"][route.path_format][method.lower()], route, op)
    _rename_generics(spec)
    _hoist_enums(spec)
    # A plain tree: shared example and header objects would otherwise become YAML anchors in openapi.yaml.
    result: dict[str, Any] = json.loads(json.dumps(spec))
    return result


def _complete(operation: dict[str, Any], route: RouteContext, op: Op) -> None:
    operation["operationId"] = op.id
    operation["description"] = op.description
    operation["x-edgeloop-role"] = op.role
    for param in operation.get("parameters", []):
        if param["name"] == "bot" and param["in"] == "path":
            # Not a pattern: the server does not refuse other strings, they name no bot (404).
            param["description"] = f"The bot's id (`{BOT_ID_PATTERN}`)."
            param["example"] = "alpha-1"
    responses: dict[str, Any] = operation["responses"]
    for status in [s for s in responses if not s.startswith("2")]:
        del responses[status]
    success = next(iter(responses.values()))
    if op.example is not None:
        media = "text/plain" if route.name == "metrics" else "application/json"
        success.setdefault("content", {}).setdefault(media, {})["example"] = op.example
    if op.etag:
        success["headers"] = _ETAG
        responses["304"] = {
            "description": "Not modified: the version in `If-None-Match` is still current (after `?wait=` "
            "seconds, if given). No body.",
            "headers": _ETAG,
        }
    if op.response_schema is not None:
        success["content"]["application/json"]["schema"] = {"$ref": REF + op.response_schema}
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        if not media.endswith("json"):
            continue
        if op.request_schema is not None:
            content["schema"] = {"$ref": REF + op.request_schema}
        if op.request_example is not None:
            content["example"] = op.request_example
    for status in _statuses(route, op):
        responses[str(status)] = _problem(status, op)


def _statuses(route: RouteContext, op: Op) -> list[int]:
    found = set(op.extra_errors)
    if op.role != "public":
        found |= {401, 422, 503}
    if "{" in route.path_format:
        found.add(404)
    if op.forbidden:
        found.add(403)
    if op.conflict:
        found.add(409)
    if op.json_body:
        found |= {400, 415, 422}
    if route.name == "readyz":
        found.add(503)
    return sorted(found)


def _problem(status: int, op: Op) -> dict[str, Any]:
    description = {403: op.forbidden, 409: op.conflict}.get(status) or _ERRORS[status]
    content: dict[str, Any] = {"schema": {"$ref": REF + "Problem"}}
    if status == 422:
        content["example"] = _422_EXAMPLE if op.id == "postEvents" else _422_REQUEST_EXAMPLE
    response: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: content}}
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _add_events(schemas: dict[str, Any]) -> None:
    """``Event`` (oneOf SignalEvent, TradeEvent, PriceEvent on ``type``) and ``EventBatch``, from the TypedDicts
    that ingestion validates with."""
    event = TypeAdapter(Event).json_schema(ref_template=REF + "{model}")
    schemas.update(event.pop("$defs"))
    schemas["Event"] = event
    schemas["EventBatch"] = {
        "type": "object",
        "title": "EventBatch",
        "description": "A batch of events; atomic: one invalid event rejects the batch (422).",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {"events": {"type": "array", "items": {"$ref": REF + "Event"}}},
    }


def _add_config_patch(schemas: dict[str, Any]) -> None:
    """``LearningConfigPatch``: the LearningConfig's fields, each optional and nullable (null = back to default)."""
    for name in ("LearningConfig", "Schedule"):
        source = schemas[name]
        patch = {
            "type": "object",
            "title": name + "Patch",
            "description": f"A JSON merge patch (RFC 7396) of {name}: only the fields to change; `null` returns "
            "a field to its default.",
            "additionalProperties": False,
            "properties": {},
        }
        for field, prop in source["properties"].items():
            prop = {k: v for k, v in copy.deepcopy(prop).items() if k not in ("default", "title")}
            if prop.get("$ref") == REF + "Schedule":
                prop["$ref"] = REF + "SchedulePatch"
            description = prop.pop("description", None)
            options = prop.get("anyOf", [prop])
            if {"type": "null"} not in options:
                options = [*options, {"type": "null"}]
            prop = {"anyOf": options}
            if description:
                prop["description"] = description
            patch["properties"][field] = prop
        schemas[name + "Patch"] = patch


def _rename_generics(spec: dict[str, Any]) -> None:
    """``Page_BotRead_`` -> ``BotPage``, ``ReportPage_SignalReportRow_`` -> ``SignalReport``."""
    schemas = spec["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in list(schemas):
        match = re.fullmatch(r"([A-Za-z]+)_([A-Za-z]+)_", name)
        if match is None:
            continue
        base, arg = match.groups()
        new = arg.removesuffix("Row") if base == "ReportPage" else arg.removesuffix("Read") + base
        renames[name] = new
        schemas[new] = schemas.pop(name)
        schemas[new]["title"] = new
    _walk(spec, lambda node: _rename_ref(node, renames))


def _rename_ref(node: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith(REF) and ref[len(REF) :] in renames:
        node["$ref"] = REF + renames[ref[len(REF) :]]
    return node


def _hoist_enums(spec: dict[str, Any]) -> None:
    """Each inline ``enum`` listing exactly one of ENUMS' value sets becomes a reference to its component."""
    by_values = {frozenset(values): name for name, values in ENUMS.items()}

    def hoist(node: dict[str, Any]) -> dict[str, Any]:
        name = by_values.get(frozenset(node.get("enum", ())))
        if name is None:
            return node
        kept = {k: v for k, v in node.items() if k in ("description", "default", "examples")}
        return {"$ref": REF + name, **kept}

    _walk(spec, hoist)
    for name, values in ENUMS.items():
        spec["components"]["schemas"][name] = {"type": "string", "title": name, "enum": list(values)}


def _walk(node: Any, visit: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _walk(value, visit)
        return visit(node)
    if isinstance(node, list):
        return [_walk(item, visit) for item in node]
    return node
