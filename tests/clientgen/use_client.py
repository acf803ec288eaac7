"""Drives a running edgeloop with the client openapi-python-client generated from openapi.yaml.

Runs in the generator's venv (the generated code needs attrs, which the project does not pin), with the
generated package on sys.path: ``python use_client.py GEN_DIR BASE_URL ADMIN_KEY``. Every response must
parse into the model the document promises; any mismatch is an AssertionError (exit 1).
"""

from __future__ import annotations

import datetime as dt
import sys
import time

sys.path.insert(0, sys.argv[1])

from edgeloop_gen import AuthenticatedClient
from edgeloop_gen.api.bots import create_bot, get_bot, patch_config
from edgeloop_gen.api.events import post_events
from edgeloop_gen.api.learning import get_health
from edgeloop_gen.api.params import get_params, get_weights
from edgeloop_gen.models import (
    BotCreate,
    BotCreated,
    Decision,
    Direction,
    EventBatch,
    HealthLevel,
    HealthRead,
    IngestResult,
    KnownGate,
    LearningConfig,
    LearningConfigPatch,
    ParamDocument,
    PriceEvent,
    Problem,
    SignalEvent,
    SignalEventComponents,
    TradeEvent,
    WeightsRead,
)

base_url, admin_key = sys.argv[2], sys.argv[3]
admin = AuthenticatedClient(base_url=base_url, token=admin_key, raise_on_unexpected_status=True)

created = create_bot.sync_detailed(client=admin, body=BotCreate(id="gen-1", name="Generated client"))
assert created.status_code == 201 and isinstance(created.parsed, BotCreated), created
assert isinstance(created.parsed.config, LearningConfig) and created.parsed.config.min_t == 3.0
bot = AuthenticatedClient(base_url=base_url, token=created.parsed.api_key, raise_on_unexpected_status=True)

# A mixed batch built from the typed models (times as datetimes and as epoch milliseconds).
now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)
now_ms = int(now.timestamp() * 1000)
components = SignalEventComponents.from_dict({"ofi": 1.3, "momentum": -0.2})
batch = EventBatch(
    events=[
        SignalEvent(
            event_id="sig-1",
            ts=now,
            type_="signal",
            symbol="BTCUSDT",
            direction=Direction.LONG,
            price=43000.5,
            conviction=0.7,
            components=components,
            decision=Decision.EXECUTED,
        ),
        SignalEvent(
            event_id="sig-2",
            ts=now_ms,
            type_="signal",
            symbol="ETHUSDT",
            direction=Direction.SHORT,
            price=3120.0,
            conviction=0.2,
            components=components,
            decision=Decision.BLOCKED,
            blocked_by=KnownGate.FEE_GATE,
        ),
        TradeEvent(
            event_id="tr-1",
            ts=now_ms + 60_000,
            type_="trade",
            opened_at=now,
            symbol="BTCUSDT",
            direction=Direction.LONG,
            entry_price=43000.5,
            exit_price=43100.0,
            quantity=0.1,
            pnl=9.1,
            fees=0.85,
            signal_event_id="sig-1",
        ),
        PriceEvent(ts=now, type_="price", symbol="BTCUSDT", price=43000.5),
    ]
)
ingested = post_events.sync_detailed("gen-1", client=bot, body=batch)
assert ingested.status_code == 200 and isinstance(ingested.parsed, IngestResult), ingested
assert (ingested.parsed.accepted, ingested.parsed.duplicates) == (4, 0), ingested.parsed

# A 422 parses into the Problem model, with errors[{index, loc, msg}].
bad = EventBatch(
    events=[
        PriceEvent(ts=now, type_="price", symbol="BTCUSDT", price=1.0),
        SignalEvent(
            event_id="sig-3",
            ts=now,
            type_="signal",
            symbol="BTCUSDT",
            direction=Direction.LONG,
            price=1.0,
            conviction=0.5,
            components=components,
            decision=Decision.BLOCKED,
        ),
    ]
)
rejected = post_events.sync_detailed("gen-1", client=bot, body=bad)
assert rejected.status_code == 422 and isinstance(rejected.parsed, Problem), rejected
assert rejected.parsed.code == "invalid_events" and rejected.parsed.status == 422
assert [e.index for e in rejected.parsed.errors] == [1], rejected.parsed.errors
assert "blocked_by" in rejected.parsed.errors[0].msg, rejected.parsed.errors

# The param document with its ETag, then 304 (at once, and after a short long-poll).
params = get_params.sync_detailed("gen-1", client=bot)
assert params.status_code == 200 and isinstance(params.parsed, ParamDocument), params
assert params.parsed.version == 1 and params.headers["etag"] == '"1"'
assert params.parsed.created_at.tzinfo is not None
same = get_params.sync_detailed("gen-1", client=bot, if_none_match=params.headers["etag"])
assert same.status_code == 304 and same.headers["etag"] == '"1"', same
started = time.monotonic()
polled = get_params.sync_detailed("gen-1", client=bot, if_none_match='"1"', wait=1)
assert polled.status_code == 304 and time.monotonic() - started >= 0.9, polled
weights = get_weights.sync_detailed("gen-1", client=bot)
assert isinstance(weights.parsed, WeightsRead) and weights.parsed.version == 1, weights
assert get_weights.sync_detailed("gen-1", client=bot, if_none_match='"1"').status_code == 304

# The health document parses, with its level as the HealthLevel enum.
health = get_health.sync_detailed("gen-1", client=bot)
assert health.status_code == 200 and isinstance(health.parsed, HealthRead), health
assert isinstance(health.parsed.level, HealthLevel) and health.parsed.counts.signals == 2

# Errors parse whatever the status: 401, 403, 404, 409.
stranger = AuthenticatedClient(base_url=base_url, token="el_not_a_key", raise_on_unexpected_status=True)
for response, status, code in [
    (get_bot.sync_detailed("gen-1", client=stranger), 401, "unauthenticated"),
    (create_bot.sync_detailed(client=bot, body=BotCreate(id="gen-2")), 403, "admin_required"),
    (get_bot.sync_detailed("nope", client=admin), 404, "bot_not_found"),
    (create_bot.sync_detailed(client=admin, body=BotCreate(id="gen-1")), 409, "bot_exists"),
]:
    assert response.status_code == status and isinstance(response.parsed, Problem), response
    assert response.parsed.code == code, response.parsed

# The typed config: a merge patch in, the whole LearningConfig out.
patched = patch_config.sync_detailed("gen-1", client=admin, body=LearningConfigPatch(min_t=2.5))
assert patched.status_code == 200 and isinstance(patched.parsed, LearningConfig), patched
assert patched.parsed.min_t == 2.5 and patched.parsed.lookback == "7d", patched.parsed
print("generated client: ok")
