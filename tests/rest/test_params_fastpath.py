"""GET /params from the in-process caches (api/rest/fastpath.py): the same answers as the route, and never
an answer the route would not give (revoked keys, other bots, expired entries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.types import Scope

from api.rest import fastpath
from api.rest.app import create_app
from core.services.context import ServiceContext
from core.settings import Settings
from tests.builders import create_bot
from tests.conftest import ADMIN, ADMIN_TOKEN


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per request, whether the fast path answered it."""
    answered: list[bool] = []
    original = fastpath._cached_response

    def spy(scope: Scope) -> Response | None:
        response = original(scope)
        if scope["path"].endswith("/params"):
            answered.append(response is not None)
        return response

    monkeypatch.setattr(fastpath, "_cached_response", spy)
    return answered


def _shape(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.content


@pytest.mark.parametrize("if_none_match", [None, '"1"', 'W/"1"', '"1", "0"', '"7"', "*", '"x"'])
async def test_cached_answer_equals_the_routes(
    client: httpx.AsyncClient, served: list[bool], if_none_match: str | None
) -> None:
    headers = await create_bot(client)
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    by_route = await client.get("/v1/bots/alpha/params", headers=headers)  # cold caches: the route answers
    cached = await client.get("/v1/bots/alpha/params", headers=headers)
    assert served == [False, True]
    assert _shape(cached) == _shape(by_route)
    assert by_route.status_code == (304 if if_none_match in ('"1"', 'W/"1"', '"1", "0"') else 200)


@pytest.mark.parametrize(
    ("url", "extra", "status"),
    [
        ("/v1/bots/alpha/params?wait=0", {}, 200),  # any query string: the route validates it
        ("/v1/bots/alpha/params?wait=61", {}, 422),
        ("/v1/bots/beta/params", {}, 404),  # another bot's params (cached for the admin)
        ("/v1/bots/alpha/params/", {}, 307),
        ("/v1/bots/alpha/params", {"Authorization": "Basic abc"}, 401),
    ],
)
async def test_anything_else_goes_to_the_route(
    client: httpx.AsyncClient, served: list[bool], url: str, extra: dict[str, str], status: int
) -> None:
    headers = await create_bot(client)
    await create_bot(client, "beta")
    await client.get("/v1/bots/alpha/params", headers=headers)  # warm the alpha key and params caches
    await client.get("/v1/bots/beta/params", headers=ADMIN)
    served.clear()
    response = await client.get(url, headers={**headers, **extra})
    assert not any(served)
    assert response.status_code == status


async def test_admin_token_is_answered_from_memory(client: httpx.AsyncClient, served: list[bool]) -> None:
    await create_bot(client)
    first = await client.get("/v1/bots/alpha/params", headers=ADMIN)
    second = await client.get("/v1/bots/alpha/params", headers=ADMIN)
    assert served == [False, True] and _shape(first) == _shape(second)


async def test_a_revoked_key_stops_at_once_on_this_replica(client: httpx.AsyncClient, served: list[bool]) -> None:
    await create_bot(client)
    created = (await client.post("/v1/bots/alpha/keys", headers=ADMIN)).json()
    key = {"Authorization": f"Bearer {created['api_key']}"}
    assert (await client.get("/v1/bots/alpha/params", headers=key)).status_code == 200
    assert (await client.get("/v1/bots/alpha/params", headers=key)).status_code == 200
    assert served == [False, True]
    assert (await client.delete(f"/v1/bots/alpha/keys/{created['key_id']}", headers=ADMIN)).status_code == 204
    response = await client.get("/v1/bots/alpha/params", headers=key)
    assert response.status_code == 401 and served[-1] is False


@pytest.fixture
async def replica(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process on the same database, trusting a verified key for 0.3 s."""
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, redis_url=None, auth_cache_ttl_s=0.3)  # type: ignore[arg-type]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as http:
            yield http


async def test_a_revoked_key_stops_on_other_replicas_within_the_auth_ttl(
    client: httpx.AsyncClient, replica: httpx.AsyncClient
) -> None:
    await create_bot(client)
    created = (await client.post("/v1/bots/alpha/keys", headers=ADMIN)).json()
    key = {"Authorization": f"Bearer {created['api_key']}"}
    assert (await replica.get("/v1/bots/alpha/params", headers=key)).status_code == 200
    assert (await client.delete(f"/v1/bots/alpha/keys/{created['key_id']}", headers=ADMIN)).status_code == 204
    await asyncio.sleep(0.35)
    assert (await replica.get("/v1/bots/alpha/params", headers=key)).status_code == 401


async def test_a_new_version_is_served_at_once_on_this_replica(client: httpx.AsyncClient, served: list[bool]) -> None:
    headers = await create_bot(client)
    await client.get("/v1/bots/alpha/params", headers=headers)
    assert (await client.post("/v1/bots/alpha/params/rollback", json={"version": 1}, headers=ADMIN)).status_code == 201
    response = await client.get("/v1/bots/alpha/params", headers=headers)
    assert response.headers["etag"] == '"2"'


def _params_counts(metrics: str) -> dict[str, float]:
    """edgeloop_http_requests_total lines of GET routes ending in /params (label set -> count)."""
    lines = [x for x in metrics.splitlines() if x.startswith("edgeloop_http_requests_total") and 'params"' in x]
    return {labels: float(n) for labels, n in (x.rsplit(" ", 1) for x in lines)}


async def test_metrics_count_cached_answers_under_the_route(client: httpx.AsyncClient, served: list[bool]) -> None:
    headers = await create_bot(client)
    before = _params_counts((await client.get("/metrics")).text)
    for _ in range(3):
        assert (await client.get("/v1/bots/alpha/params", headers=headers)).status_code == 200
    assert served == [False, True, True]
    after = _params_counts((await client.get("/metrics")).text)
    label = 'edgeloop_http_requests_total{method="GET",route="/v1/bots/{bot}/params",status="200"}'
    assert {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)} == {label: 3}


async def test_a_key_lookup_that_overlaps_its_revocation_is_not_cached(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read saw the key before the revocation committed; caching it would keep it alive for the TTL."""
    from core.errors import EdgeloopError
    from core.services import auth, bots
    from tests.workers.scenario import ADMIN_P

    await bots.create_bot(ctx, ADMIN_P, "alpha", None, {})
    created = await bots.create_bot_key(ctx, ADMIN_P, "alpha")
    header = f"Bearer {created.api_key}"
    read_done, release = asyncio.Event(), asyncio.Event()
    real = ctx.sessions

    class _HeldSession:
        def __init__(self) -> None:
            self._inner = real()

        async def __aenter__(self) -> Any:
            return await self._inner.__aenter__()

        async def __aexit__(self, *exc: object) -> None:
            read_done.set()
            await release.wait()
            await self._inner.__aexit__(*exc)

    monkeypatch.setattr(ctx, "sessions", _HeldSession)
    lookup = asyncio.create_task(auth.authenticate(ctx, header))
    await read_done.wait()
    monkeypatch.setattr(ctx, "sessions", real)
    await bots.revoke_bot_key(ctx, ADMIN_P, "alpha", created.key_id)
    release.set()
    await lookup  # began before the revocation: it may still pass
    assert auth.cached_principal(ctx, header) is None
    with pytest.raises(EdgeloopError) as caught:
        await auth.authenticate(ctx, header)
    assert caught.value.code == "unauthenticated"
