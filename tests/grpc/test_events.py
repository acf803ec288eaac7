"""Ingest over gRPC: same rules, atomicity and idempotency as REST (they share one service)."""

from __future__ import annotations

import math

import grpc
import httpx
import pytest

from api.grpc.interceptor import error_detail
from proto.edgeloop.v1 import events_pb2, learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import mixed_batch, price, row_counts, signal, trade
from tests.grpc.conftest import Metadata, batch

pytestmark = pytest.mark.usefixtures("alpha")


async def test_grpc_batch_then_same_batch_over_rest_is_all_duplicates(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient, database_url: str
) -> None:
    events = mixed_batch(30)
    result = await stub.IngestEvents(batch("alpha", events), metadata=alpha)
    assert (result.accepted, result.duplicates) == (30, 0)
    assert await row_counts(database_url) == {"signals": 10, "trades": 10, "prices": 10}
    response = await client.post(
        "/v1/bots/alpha/events", json={"events": events}, headers={"Authorization": alpha[0][1]}
    )
    assert response.json() == {"accepted": 0, "duplicates": 30}
    bot = await client.get("/v1/bots/alpha", headers={"Authorization": alpha[0][1]})
    assert bot.json()["watermark"] is not None


async def test_rest_batch_then_same_batch_over_grpc_is_all_duplicates(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient
) -> None:
    events = mixed_batch(30)
    response = await client.post(
        "/v1/bots/alpha/events", json={"events": events}, headers={"Authorization": alpha[0][1]}
    )
    assert response.json() == {"accepted": 30, "duplicates": 0}
    result = await stub.IngestEvents(batch("alpha", events), metadata=alpha)
    assert (result.accepted, result.duplicates) == (0, 30)


async def test_rfc3339_times_and_optional_fields(stub: LearningServiceStub, alpha: Metadata) -> None:
    events = [
        signal(
            ts="2026-01-02T03:04:05.123Z",
            decision="blocked",
            blocked_by="fee_gate",
            strategy="momo",
            expected_edge_bps=4.5,
            regime="calm",
        ),
        trade(opened_at="2026-01-02T03:04:05+01:00", ts="2026-01-02T03:05:05Z", venue="binance", conviction=0.4),
        price(event_id="p-1"),
    ]
    result = await stub.IngestEvents(batch("alpha", events), metadata=alpha)
    assert (result.accepted, result.duplicates) == (3, 0)


async def _invalid(stub: LearningServiceStub, alpha: Metadata, events: list[events_pb2.Event]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.IngestEvents(learning_pb2.IngestEventsRequest(bot_id="alpha", events=events), metadata=alpha)
    return caught.value


async def test_bad_batch_is_invalid_argument_naming_each_event_and_stores_nothing(
    stub: LearningServiceStub, alpha: Metadata, database_url: str
) -> None:
    events = [batch("alpha", [e]).events[0] for e in mixed_batch(300)]
    events[117] = batch("alpha", [signal(conviction=1.5)]).events[0]
    events[251].price.ClearField("price")  # a forgotten required field is "missing", never a silent 0
    error = await _invalid(stub, alpha, events)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail(error)
    assert detail is not None and detail.code == "invalid_events"
    assert [(e.index, e.loc) for e in detail.errors] == [(117, "conviction"), (251, "price")]
    assert detail.errors[1].msg == "Field required"
    assert dict(error.trailing_metadata())["edgeloop-code"] == "invalid_events"
    assert "2 of 300 events are invalid" in (error.details() or "")
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


async def test_nan_and_infinity_are_rejected_by_the_shared_validation(
    stub: LearningServiceStub, alpha: Metadata
) -> None:
    events = batch("alpha", [signal(price=math.nan), signal(components={"ofi": math.inf}), trade(pnl=-math.inf)])
    error = await _invalid(stub, alpha, list(events.events))
    detail = error_detail(error)
    assert detail is not None
    assert [(e.index, e.loc) for e in detail.errors] == [(0, "price"), (1, "components.ofi"), (2, "pnl")]


async def test_empty_event_unspecified_enum_and_empty_time_are_named(
    stub: LearningServiceStub, alpha: Metadata
) -> None:
    unspecified = batch("alpha", [signal()]).events[0]
    unspecified.signal.direction = events_pb2.DIRECTION_UNSPECIFIED
    no_time = batch("alpha", [price()]).events[0]
    no_time.price.ts.Clear()
    no_time.price.ts.SetInParent()
    error = await _invalid(stub, alpha, [events_pb2.Event(), unspecified, no_time])
    detail = error_detail(error)
    assert detail is not None
    assert [(e.index, e.loc) for e in detail.errors] == [(0, "type"), (1, "direction"), (2, "ts")]


async def test_too_many_events_is_resource_exhausted(stub: LearningServiceStub, alpha: Metadata) -> None:
    request = batch("alpha", [price(ts=1_767_225_600_000 + i) for i in range(10_001)])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.IngestEvents(request, metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(caught.value.trailing_metadata())["edgeloop-code"] == "batch_too_large"


async def test_too_many_bytes_is_resource_exhausted(stub: LearningServiceStub, alpha: Metadata) -> None:
    request = batch("alpha", [signal(symbol="X" * (9 * 1024 * 1024))])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.IngestEvents(request, metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    detail = error_detail(caught.value)
    assert detail is not None and detail.code == "batch_too_large"


async def test_stream_of_batches_commits_each_and_totals(
    stub: LearningServiceStub, alpha: Metadata, database_url: str
) -> None:
    batches = [mixed_batch(30) for _ in range(4)]
    requests = [batch("alpha", b) for b in [*batches, batches[0]]]
    result = await stub.StreamEvents(iter(requests), metadata=alpha)
    assert (result.accepted, result.duplicates, result.batches) == (120, 30, 5)
    assert await row_counts(database_url) == {"signals": 40, "trades": 40, "prices": 40}


async def test_stream_stops_at_the_first_bad_batch_and_names_it(
    stub: LearningServiceStub, alpha: Metadata, database_url: str
) -> None:
    requests = [
        batch("alpha", mixed_batch(3)),
        batch("alpha", [signal(), signal(conviction=-1.0)]),
        batch("alpha", mixed_batch(3)),
    ]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.StreamEvents(iter(requests), metadata=alpha)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail(caught.value)
    assert detail is not None and detail.detail.startswith("batch 1: ")
    assert [(e.index, e.loc) for e in detail.errors] == [(1, "conviction")]
    assert await row_counts(database_url) == {"signals": 1, "trades": 1, "prices": 1}
