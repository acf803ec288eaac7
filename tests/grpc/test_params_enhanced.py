"""The section-11 document additions (weights_by_regime, direction_routing, rules) over REST and gRPC,
and documents stored before them (which still load, with the defaults)."""

from __future__ import annotations

import httpx
from google.protobuf.json_format import MessageToDict

from core.schemas.params import ParamSections, Rule
from core.services import params
from core.services.context import ServiceContext
from core.store import repos
from proto.edgeloop.v1 import learning_pb2
from proto.edgeloop.v1.learning_pb2_grpc import LearningServiceStub
from tests.builders import create_bot
from tests.conftest import ADMIN
from tests.grpc.conftest import Metadata

RULE = Rule(
    id="r-3f2a",
    when={"direction": "long", "hour_bucket": 3},
    effect="avoid",
    stats={"n": 240.0, "mean": -0.0012, "t": -4.1, "p": 0.00005, "q": 0.004},
    since="2026-11-02T00:00:00.000Z",
    expires_at="2026-11-05T00:00:00.000Z",
)


async def _commit(ctx: ServiceContext, bot_id: str, sections: ParamSections) -> None:
    async with ctx.sessions.begin() as session:
        await params.commit_version(ctx, session, bot_id, sections, source="manual", cycle_id=None, now_ms=ctx.clock())
    await params.version_committed(ctx, bot_id)


async def test_new_sections_over_rest_and_grpc(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient, grpc_ctx: ServiceContext
) -> None:
    headers = ADMIN
    v1 = (await client.get("/v1/bots/alpha/params", headers=headers)).json()
    assert v1["weights_by_regime"] == {} and v1["direction_routing"] == {} and v1["rules"] == []
    sections = ParamSections(
        weights={"ofi": 1.2},
        weights_by_regime={"trend": {"ofi": 1.6}},
        direction_routing={"EURUSD": "long_only"},
        rules=[RULE],
    )
    await _commit(grpc_ctx, "alpha", sections)

    # the REST process learns of a version made by another process by polling (long-poll from the old ETag)
    newer = {**headers, "If-None-Match": '"1"'}
    weights = await client.get("/v1/bots/alpha/weights", headers=newer, params={"wait": 5})
    assert weights.status_code == 200 and weights.headers["etag"] == '"2"', weights.text
    assert weights.json()["weights_by_regime"] == {"trend": {"ofi": 1.6}}
    routing = await client.get("/v1/bots/alpha/routing", headers=headers)
    assert routing.json() == {"version": 2, "direction_routing": {"EURUSD": "long_only"}}
    assert routing.headers["etag"] == '"2"'
    rules = await client.get("/v1/bots/alpha/rules", headers=headers)
    assert rules.json() == {"version": 2, "rules": [RULE.model_dump(mode="json")]}
    cached = await client.get("/v1/bots/alpha/rules", headers={**headers, "If-None-Match": '"2"'})
    assert cached.status_code == 304

    doc = (await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=alpha)).document
    assert doc.version == 2
    assert {r: dict(w.weights) for r, w in doc.weights_by_regime.items()} == {"trend": {"ofi": 1.6}}
    assert dict(doc.direction_routing) == {"EURUSD": "long_only"}
    (rule,) = doc.rules
    assert (rule.id, rule.effect, rule.since, rule.expires_at) == (RULE.id, "avoid", RULE.since, RULE.expires_at)
    assert MessageToDict(rule.when) == {"direction": "long", "hour_bucket": 3.0}
    assert dict(rule.stats) == RULE.stats

    diff = (await client.get("/v1/bots/alpha/params/diff", params={"from": 1, "to": 2}, headers=headers)).json()
    paths = {d["path"] for d in diff}
    assert {"weights_by_regime.trend.ofi", "direction_routing.EURUSD", f"rules[{RULE.id}]"} <= paths


async def test_another_bot_cannot_read_routing_or_rules(client: httpx.AsyncClient) -> None:
    await create_bot(client, "alpha")
    beta = await create_bot(client, "beta")
    for section in ("routing", "rules"):
        response = await client.get(f"/v1/bots/alpha/{section}", headers=beta)
        assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


async def test_a_document_stored_before_the_additions_still_loads(
    stub: LearningServiceStub, alpha: Metadata, client: httpx.AsyncClient, grpc_ctx: ServiceContext
) -> None:
    async with grpc_ctx.sessions.begin() as session:
        old = await repos.get_version_document(session, "alpha", 1)
        assert old is not None
        legacy = {k: v for k, v in old.items() if k not in ("weights_by_regime", "direction_routing", "rules")}
        bot = await repos.get_bot(session, "alpha", for_update=True)
        assert bot is not None
        await repos.add_version(
            session,
            bot_id="alpha",
            version=2,
            created_at=grpc_ctx.clock(),
            source="manual",
            cycle_id=None,
            document={**legacy, "version": 2, "source": "manual"},
        )
        bot.current_version = 2
    await params.version_committed(grpc_ctx, "alpha")

    newer = {**ADMIN, "If-None-Match": '"1"'}
    doc = (await client.get("/v1/bots/alpha/params", headers=newer, params={"wait": 5})).json()
    assert doc["version"] == 2 and doc["rules"] == [] and doc["direction_routing"] == {}
    assert (await client.get("/v1/bots/alpha/routing", headers=ADMIN)).json() == {"version": 2, "direction_routing": {}}
    assert (await client.get("/v1/bots/alpha/params/versions/2", headers=ADMIN)).json()["weights_by_regime"] == {}
    response = await stub.GetParams(learning_pb2.GetParamsRequest(bot_id="alpha"), metadata=alpha)
    assert response.document.version == 2 and len(response.document.rules) == 0
    rollback = await client.post("/v1/bots/alpha/params/rollback", json={"version": 2}, headers=ADMIN)
    assert rollback.status_code == 201 and rollback.json()["rules"] == []
