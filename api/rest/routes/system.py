"""Liveness, readiness, metrics and status."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from api.rest.deps import Caller, Ctx, get_principal
from api.rest.problems import RETRY_AFTER_HEADER, Problem
from core.errors import EdgeloopError, ErrorKind
from core.services import status as status_service
from core.services.auth import require_admin
from core.services.system import check_readiness

router = APIRouter(tags=["system"])


class Liveness(BaseModel):
    status: str = Field(..., examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(..., examples=["ok"])
    checks: dict[str, str] = Field(..., examples=[{"database": "ok", "redis": "ok"}])


@router.get("/healthz", summary="Liveness (no I/O)")
async def healthz() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: 200 when the database (and Redis, if configured) answer, else 503 naming the failure",
    response_model=Readiness,
    responses={503: {"model": Problem, "description": "A dependency is down.", "headers": RETRY_AFTER_HEADER}},
)
async def readyz(ctx: Ctx) -> Response:
    ready = await check_readiness(ctx)
    if not ready.ok:
        failing = ", ".join(f"{name} {ready.checks[name]}" for name in ready.failing)
        raise EdgeloopError(ErrorKind.UNAVAILABLE, "dependency_unavailable", "Not ready", f"not ready: {failing}")
    return Response(Readiness(status="ok", checks=ready.checks).model_dump_json(), media_type="application/json")


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format."}},
)
async def metrics(ctx: Ctx, request: Request) -> Response:
    if not ctx.settings.metrics_public:
        require_admin(await get_principal(request, _credentials(request)))
    await status_service.refresh_gauges(ctx)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None


@router.get("/v1/status", summary="Service and per-bot learning status (bot key: its own bot)")
async def get_status(ctx: Ctx, caller: Caller) -> status_service.StatusRead:
    return await status_service.get_status(ctx, caller)
