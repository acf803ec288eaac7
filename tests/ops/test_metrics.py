"""Every declared metric moves: each test performs the action and reads /metrics before and after."""

from __future__ import annotations

import asyncio

import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.services import bots, cycles, status
from core.services.context import ServiceContext
from core.services.metrics import QUEUE_DEPTH
from core.settings import Settings
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot, price, signal
from tests.conftest import ADMIN

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    text = (await client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_cycles_by_kind_and_status_and_their_duration(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client)
    await client.post("/v1/bots/alpha/events", json={"events": [price(), signal()]}, headers=bot)
    before = await scrape(client)
    queued = (await client.post("/v1/bots/alpha/cycles", json={"kind": "comprehensive"}, headers=ADMIN)).json()
    for _ in range(200):
        record = (await client.get(f"/v1/bots/alpha/cycles/{queued['cycle_id']}", headers=ADMIN)).json()
        if record["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "succeeded", record
    after = await scrape(client)
    assert moved(before, after, "edgeloop_cycles_total", kind="comprehensive", status="succeeded") == 1
    assert moved(before, after, "edgeloop_cycle_duration_seconds_count", kind="comprehensive") == 1
    assert moved(before, after, "edgeloop_cycle_duration_seconds_sum", kind="comprehensive") > 0


async def test_grpc_requests_by_method_and_code(client: httpx.AsyncClient, stub: LearningServiceStub) -> None:
    bot = await create_bot(client)
    before = await scrape(client)
    metadata = (("authorization", bot["Authorization"]),)
    await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=metadata)
    try:
        await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=(("authorization", "Bearer x"),))
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
    after = await scrape(client)
    assert moved(before, after, "edgeloop_grpc_requests_total", method="GetParams", code="OK") == 1
    assert moved(before, after, "edgeloop_grpc_requests_total", method="GetParams", code="UNAUTHENTICATED") == 1


async def test_ingest_events_by_type_and_result(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client)
    before = await scrape(client)
    first = signal()
    await client.post("/v1/bots/alpha/events", json={"events": [first, price()]}, headers=bot)
    await client.post("/v1/bots/alpha/events", json={"events": [first]}, headers=bot)
    bad = await client.post("/v1/bots/alpha/events", json={"events": [{"type": "signal"}]}, headers=bot)
    assert bad.status_code == 422
    after = await scrape(client)
    assert moved(before, after, "edgeloop_events_ingested_total", type="signal") == 1
    assert moved(before, after, "edgeloop_events_ingested_total", type="price") == 1
    assert moved(before, after, "edgeloop_events_duplicate_total", type="signal") == 1
    assert moved(before, after, "edgeloop_events_rejected_total", code="invalid_events") == 1


async def test_params_cache_hits_and_misses(client: httpx.AsyncClient) -> None:
    bot = await create_bot(client)
    before = await scrape(client)
    await client.get("/v1/bots/alpha/params?wait=0", headers=bot)  # the route: a cold entry, from the database
    await client.get("/v1/bots/alpha/params", headers=bot)  # the fast path, from the cache
    after = await scrape(client)
    assert moved(before, after, "edgeloop_params_cache_total", result="miss") >= 1
    assert moved(before, after, "edgeloop_params_cache_total", result="hit") >= 1


async def test_http_requests_by_route_and_status(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await client.get("/healthz")
    after = await scrape(client)
    assert moved(before, after, "edgeloop_http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert moved(before, after, "edgeloop_http_request_duration_seconds_count", method="GET", route="/healthz") == 1


async def test_queue_depth_counts_waiting_cycles(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, bots.CLI_PRINCIPAL, "alpha", None, None)
    await status.refresh_gauges(ctx)
    assert QUEUE_DEPTH._value.get() == 0
    for _ in range(2):  # no queue attached: the cycles wait
        await cycles.trigger_cycle(ctx, bots.CLI_PRINCIPAL, "alpha", "continuous", False)
    await status.refresh_gauges(ctx)
    assert QUEUE_DEPTH._value.get() == 2


async def test_database_queries_are_counted_and_a_cached_poll_makes_none(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    bot = await create_bot(client)
    await client.get("/v1/bots/alpha/params", headers=bot)  # warms the key and the document
    before = await scrape(client)
    await client.get("/v1/bots/alpha/params", headers=bot)
    await client.get("/v1/bots/alpha/params", headers={**bot, "If-None-Match": '"1"'})
    middle = await scrape(client)
    if settings.database_url.startswith("postgresql"):  # notified caches: no TTL, no background refresh
        assert moved(before, middle, "edgeloop_db_queries_total") == 1  # the scrape's own (queue depth)
    await client.get("/v1/bots/alpha/params/versions", headers=bot)
    after = await scrape(client)
    assert moved(middle, after, "edgeloop_db_queries_total") >= 1
