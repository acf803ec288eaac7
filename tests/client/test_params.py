"""ParamWatcher against a real server process: the last good document from disk while the service is down,
the switch when it returns, expiry, and the active version in the service's history and /health.
Params accessors on a document with known answers."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from edgeloop_client import Backoff, EdgeloopClient, HoldPolicy, Params, ParamWatcher
from sqlalchemy import select

from core.store.db import make_engine
from core.store.models import Signal
from tests.client.conftest import Server, free_port
from tests.conftest import ADMIN

FAST = Backoff(base_s=0.05, max_s=0.3)


def _until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_starts_from_the_cached_document_while_the_service_is_down_then_switches(
    shared_server: Server, tmp_path: Path
) -> None:
    key = shared_server.create_bot("watch-down")
    cache = tmp_path / "params.json"
    with ParamWatcher(shared_server.url, "watch-down", key, cache_path=cache, wait_s=1) as first:
        assert first.wait_ready(10) and first.params.version == 1 and not first.from_disk
    made = httpx.post(f"{shared_server.url}/v1/bots/watch-down/params/rollback", json={"version": 1}, headers=ADMIN)
    assert made.status_code == 201

    port = free_port()  # where the service will come back; nothing listens yet
    seen: list[int] = []
    watcher = ParamWatcher(
        f"http://127.0.0.1:{port}",
        "watch-down",
        key,
        cache_path=cache,
        wait_s=1,
        backoff=FAST,
        on_update=lambda p: seen.append(p.version),
    ).start()
    returned = Server(shared_server.database_url, port)
    try:
        assert watcher.wait_ready(0.5)  # at once, from disk
        assert watcher.from_disk and watcher.params.version == 1 and watcher.active_version == 1
        time.sleep(0.3)
        assert not watcher.reachable and watcher.params.version == 1  # still serving the last good document
        returned.start()
        _until(lambda: watcher.params.version == 2)
        assert seen == [1, 2] and watcher.active_version == 2 and not watcher.from_disk
    finally:
        watcher.close()
        returned.kill()


def test_a_document_past_expires_at_is_reported_stale(
    shared_server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="edgeloop_client")
    key = shared_server.create_bot("watch-stale", config={"params_ttl": "1s"})
    stale: list[int] = []
    with ParamWatcher(
        shared_server.url,
        "watch-stale",
        key,
        cache_path=tmp_path / "p.json",
        wait_s=5,
        on_stale=lambda p: stale.append(p.version),
    ) as watcher:
        assert watcher.wait_ready(10)
        left = watcher.params.seconds_to_expiry()
        assert left is not None and left <= 1.0
        if left > 0.2:
            assert not watcher.stale and stale == []
        _until(lambda: stale == [1], timeout=5)
        assert watcher.stale and watcher.params.is_stale()
    assert any("version 1 expired" in r.getMessage() for r in caplog.records)


async def test_the_active_version_shows_in_history_health_and_events(shared_server: Server, tmp_path: Path) -> None:
    key = shared_server.create_bot("watch-active")
    with (
        ParamWatcher(shared_server.url, "watch-active", key, cache_path=tmp_path / "p.json", wait_s=1) as watcher,
        EdgeloopClient(shared_server.url, "watch-active", key, spool=tmp_path / "s.db", versions=watcher) as client,
    ):
        assert watcher.wait_ready(10) and watcher.active_version == 1
        _until(lambda: shared_server.get("/v1/bots/watch-active/activations").json()["items"] != [])
        history = shared_server.get("/v1/bots/watch-active/activations").json()["items"]
        assert [h["version"] for h in history] == [1]
        health = shared_server.get("/v1/bots/watch-active/health").json()
        assert (health["current_version"], health["active_version"]) == (1, 1)
        event_id = client.signal(symbol="EURUSD", direction="long", price=1.1, conviction=0.5, components={"m": 1.0})
        assert client.flush(10)
    engine = make_engine(shared_server.database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Signal.event_id, Signal.params_version))).all()
    finally:
        await engine.dispose()
    assert (event_id, 1) in rows


DOCUMENT = {
    "bot_id": "b",
    "version": 7,
    "created_at": "2026-01-01T00:00:00.000Z",
    "expires_at": "2026-01-08T00:00:00.000Z",
    "source": "cycle",
    "cycle_id": "c",
    "default_weight": 1.0,
    "weights": {"ofi": 2.0, "momentum": 0.5},
    "signal_horizons": {"ofi": "5m"},
    "gates": {"conviction": {"min_conviction": 0.3}, "fee": {"min_expected_edge_bps": 4.0}},
    "sizing": {
        "buckets": [
            {"min_conviction": 0.0, "max_conviction": 0.5, "multiplier": 0.5},
            {"min_conviction": 0.5, "max_conviction": 1.0, "multiplier": 1.5},
        ]
    },
    "blocked_combos": [
        {"symbol": "ETH", "direction": "short", "since": "x", "reason": "r", "trades": 30, "win_rate": 0.2, "pnl": -5}
    ],
    "allocation": {"strategies": {"momo": 0.25, "mr": 0.75}, "symbols": {"ETH": 0.4, "BTC": 0.6}},
    "hold_time": {"default": {"target_s": 900, "max_s": 3600}, "by_strategy": {"momo": {"target_s": 60, "max_s": 300}}},
}


def test_params_accessors_read_the_document_as_section_7_defines() -> None:
    p = Params(DOCUMENT)
    assert (p.weight("ofi"), p.weight("unknown")) == (2.0, 1.0)  # unlisted: default_weight
    assert (p.horizon("ofi"), p.horizon("momentum")) == ("5m", None)
    assert p.score({"ofi": 1.0, "momentum": -2.0, "new": 0.5}) == pytest.approx(2.0 - 1.0 + 0.5)
    assert (p.min_conviction, p.min_expected_edge_bps) == (0.3, 4.0)
    assert [p.size_multiplier(c) for c in (0.0, 0.49, 0.5, 1.0)] == [0.5, 0.5, 1.5, 1.5]
    assert p.is_blocked("ETH", "short") and not p.is_blocked("ETH", "long")
    assert p.gate(symbol="ETH", direction="short", conviction=0.9) == "blocked_combo"
    assert p.gate(symbol="BTC", direction="long", conviction=0.2) == "conviction_gate"
    assert p.gate(symbol="BTC", direction="long", conviction=0.9, expected_edge_bps=3.0) == "fee_gate"
    assert p.gate(symbol="BTC", direction="long", conviction=0.9, expected_edge_bps=5.0) is None
    assert p.allocation(strategy="momo") == 0.25 and p.allocation(symbol="ETH") == 0.4
    assert p.allocation(strategy="mr", symbol="BTC") == pytest.approx(0.45) and p.allocation(strategy="x") is None
    assert p.hold_time("momo") == HoldPolicy(60, 300) and p.hold_time("other") == HoldPolicy(900, 3600)
    assert not p.is_stale(now_s=1_767_225_600 + 3600) and p.is_stale(now_s=1_767_225_600 + 7 * 86400)
