"""Param documents: current (ETag, long-poll), sections, versions, diff, rollback."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Response
from pydantic import create_model

from api.rest.deps import Caller, Ctx
from api.rest.problems import ERROR_RESPONSES
from core.schemas.params import ParamDocument
from core.schemas.resources import DiffEntry, Page, RollbackCreate, VersionInfo
from core.services import params
from core.services.auth import Principal
from core.services.context import ServiceContext
from core.services.paging import DEFAULT_LIMIT, MAX_LIMIT
from core.services.params import CurrentParams
from core.services.validation import INT4_MAX, ascii_int

router = APIRouter(prefix="/v1", tags=["params"], responses=ERROR_RESPONSES)

Wait = Annotated[
    int | None,
    Query(
        ge=0,
        le=60,
        description="With If-None-Match: wait up to N seconds for a newer version, else 304. The client's read "
        "timeout must exceed N seconds.",
    ),
]
IfNoneMatch = Annotated[str | None, Header(description='The ETag you hold, e.g. "3".')]
_304 = {304: {"description": "Not modified: the version in If-None-Match is still current."}}


def known_version(if_none_match: str | None) -> int | None:
    """The version named by If-None-Match (``"3"``, ``W/"3"``; the first of a list); None if absent or foreign."""
    if not if_none_match:
        return None
    first = if_none_match.split(",")[0].strip().removeprefix("W/").strip('"')
    return ascii_int(first, max_value=INT4_MAX)


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"', "Cache-Control": "no-cache"}


def params_response(current: CurrentParams | None, known: int | None, section: str | None = None) -> Response:
    """200 with the document (or one section) and its ETag; 304 when ``current`` is None (``known`` is current)."""
    if current is None:
        return Response(status_code=304, headers=_etag(known or 0))
    body = current.body if section is None else orjson.dumps(current.section(section))
    return Response(body, media_type="application/json", headers=_etag(current.version))


async def _serve(
    ctx: ServiceContext,
    caller: Principal,
    bot: str,
    if_none_match: str | None,
    wait: int | None,
    section: str | None = None,
) -> Response:
    known = known_version(if_none_match)
    current = await params.get_params_if_newer(ctx, caller, bot, known, wait or 0)
    return params_response(current, known, section)


@router.get(
    "/bots/{bot}/params",
    summary="The current param document (ETag = version; If-None-Match -> 304; ?wait= long-polls)",
    response_model=ParamDocument,
    responses=_304,
)
async def get_params(
    ctx: Ctx, caller: Caller, bot: str, wait: Wait = None, if_none_match: IfNoneMatch = None
) -> Response:
    return await _serve(ctx, caller, bot, if_none_match, wait)


def _section_route(name: str, keys: tuple[str, ...]) -> None:
    async def endpoint(
        ctx: Ctx, caller: Caller, bot: str, wait: Wait = None, if_none_match: IfNoneMatch = None
    ) -> Response:
        return await _serve(ctx, caller, bot, if_none_match, wait, section=name)

    fields: dict[str, Any] = {"version": (int, ...)}
    fields.update({k: (ParamDocument.model_fields[k].annotation, ...) for k in keys})
    model = create_model(name.title().replace("-", "") + "Read", **fields)
    router.add_api_route(
        f"/bots/{{bot}}/{name}",
        endpoint,
        methods=["GET"],
        name=f"get_{name.replace('-', '_')}",
        summary=f"The `{'`, `'.join(keys)}` section of the current document (ETag, 304, ?wait= as /params)",
        response_model=model,
        responses=_304,
    )


for _name, _keys in params.SECTIONS.items():
    _section_route(_name, _keys)


@router.get("/bots/{bot}/params/versions", summary="Past versions, newest first")
async def list_versions(
    ctx: Ctx,
    caller: Caller,
    bot: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[VersionInfo]:
    return await params.list_versions(ctx, caller, bot, limit=limit, cursor=cursor)


@router.get("/bots/{bot}/params/versions/{version}", summary="One past document", response_model=ParamDocument)
async def get_version(ctx: Ctx, caller: Caller, bot: str, version: int) -> dict[str, Any]:
    return await params.get_version(ctx, caller, bot, version)


@router.get("/bots/{bot}/params/diff", summary="What changed between two versions")
async def diff(
    ctx: Ctx,
    caller: Caller,
    bot: str,
    from_: Annotated[int, Query(alias="from", ge=1, description="Older version.")],
    to: Annotated[int, Query(ge=1, description="Newer version.")],
) -> list[DiffEntry]:
    return await params.diff_versions(ctx, caller, bot, from_, to)


@router.post("/bots/{bot}/params/rollback", status_code=201, summary="New version copying an old one (admin)")
async def rollback(ctx: Ctx, caller: Caller, bot: str, body: RollbackCreate) -> ParamDocument:
    return await params.rollback(ctx, caller, bot, body.version)
