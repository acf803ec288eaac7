"""Dependencies: the service context and the caller's principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.services.auth import Principal, authenticate
from core.services.context import ServiceContext

_bearer = HTTPBearer(auto_error=False, description="A bot key or an admin key.")


async def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else request.headers.get("authorization")
    return await authenticate(request.app.state.ctx, header)


Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(get_principal)]
