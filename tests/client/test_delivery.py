"""Events through edgeloop_client into a real server process: exactly once across server and bot crashes,
bad events split out to on_rejected, a bounded spool that never drops silently, the asyncio flavour."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from edgeloop_client import AsyncEdgeloopClient, Backoff, EdgeloopClient, SpoolFull

from tests.builders import row_counts
from tests.client.conftest import Server, free_port

T0 = 1_767_225_600_000
FAST = Backoff(base_s=0.05, max_s=0.3)
SPOOL_BOT = str(Path(__file__).with_name("spool_bot.py"))


def _hand_over(client: EdgeloopClient, i: int) -> str:
    """Event i of a stream: signals, every 5th a price mark, every 7th a trade."""
    if i % 5 == 4:
        client.price(symbol="EURUSD", price=1.1 + i * 1e-5, ts=T0 + i * 1000)
        return "prices"
    if i % 7 == 6:
        client.trade(
            symbol="EURUSD",
            direction="long",
            opened_at=T0 + i * 1000 - 60_000,
            ts=T0 + i * 1000,
            entry_price=1.1,
            exit_price=1.2,
            quantity=1.0,
            pnl=0.1,
        )
        return "trades"
    client.signal(
        symbol="EURUSD", direction="long", price=1.1, conviction=0.5, components={"momentum": 1.0}, ts=T0 + i * 1000
    )
    return "signals"


def _counts(server: Server, bot: str) -> dict[str, int]:
    status = server.get("/v1/status").json()
    return next(b["events"] for b in status["bots"] if b["id"] == bot)


async def test_server_killed_mid_stream_every_event_arrives_exactly_once(
    server: Server, database_url: str, tmp_path: Path
) -> None:
    key = server.create_bot("alpha")
    sent = {"signals": 0, "trades": 0, "prices": 0}
    client = EdgeloopClient(
        server.url, "alpha", key, spool=tmp_path / "spool.db", batch_size=25, max_age_s=0.02, backoff=FAST
    )
    try:
        for i in range(1200):
            sent[_hand_over(client, i)] += 1
            if i % 100 == 99:
                time.sleep(0.03)  # a live stream, not one burst
            if i == 400:
                deadline = time.monotonic() + 10
                while client.stats["accepted"] == 0 and time.monotonic() < deadline:
                    time.sleep(0.01)
                server.kill()  # mid-stream, requests in flight
            if i == 800:
                assert client.depth() > 0  # what the outage held back is waiting in the spool
                server.start()
        assert client.flush(30), f"not delivered: depth {client.depth()}"
    finally:
        client.close(5)
    assert await row_counts(database_url) == sent  # exactly once: nothing lost, nothing twice
    assert _counts(server, "alpha") == sent
    stats = client.stats
    assert stats["accepted"] <= 1200 <= stats["accepted"] + stats["duplicates"] and stats["retries"] > 0


def _bot(mode: str, server: Server, key: str, spool: Path, n: int, bot: str = "killed-bot") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, SPOOL_BOT, mode, server.url, bot, key, str(spool), str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_bot_killed_with_events_in_the_spool_resends_them_exactly_once(
    shared_server: Server, tmp_path: Path
) -> None:
    server, spool, n = shared_server, tmp_path / "spool.db", 1000
    key = server.create_bot("killed-bot")
    bot = _bot("produce", server, key, spool, n)
    bot_id = "killed-bot"
    try:
        assert bot.stdout is not None and bot.stdout.readline().strip() == "spooled"
        deadline = time.monotonic() + 10
        while sum(_counts(server, bot_id).values()) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        bot.kill()
        bot.communicate(timeout=10)
    time.sleep(0.2)  # a request the server had fully read when the bot died may still commit
    at_kill = sum(_counts(server, bot_id).values())
    assert 0 < at_kill < n  # killed mid-delivery, with events still in the spool
    resumed = _bot("resume", server, key, spool, 0)
    out, _ = resumed.communicate(timeout=60)
    result = json.loads(out)
    assert result["flushed"] and result["depth"] == 0
    assert _counts(server, bot_id) == {"signals": 800, "trades": 0, "prices": 200}  # each exactly once
    # The restart stored only what was missing; what the dead bot sent without seeing the answer came back
    # as duplicates.
    assert 0 < result["accepted"] <= n - at_kill <= result["sent"]


def test_interpreter_exit_delivers_what_was_handed_over(shared_server: Server, tmp_path: Path) -> None:
    key = shared_server.create_bot("exiting-bot")
    bot = _bot("exit", shared_server, key, tmp_path / "spool.db", 100, bot="exiting-bot")
    bot.communicate(timeout=30)
    assert bot.returncode == 0
    assert _counts(shared_server, "exiting-bot") == {"signals": 80, "trades": 0, "prices": 20}


async def test_bad_events_reach_on_rejected_and_the_good_ones_are_stored(shared_server: Server, tmp_path: Path) -> None:
    key = shared_server.create_bot("rejects")
    rejected: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []
    with EdgeloopClient(
        shared_server.url,
        "rejects",
        key,
        spool=tmp_path / "spool.db",
        batch_size=500,
        on_rejected=lambda events, problem: rejected.append((events, problem)),
    ) as client:
        bad_ids = []
        for i in range(30):
            kw: dict[str, Any] = {"conviction": 0.5, "price": 1.1}
            if i in (3, 17):
                kw["conviction"] = 1.5  # out of 0..1
            if i == 25:
                kw["price"] = -1.0
            event_id = client.signal(symbol="EURUSD", direction="short", components={"m": -1.0}, ts=T0 + i * 1000, **kw)
            if i in (3, 17, 25):
                bad_ids.append(event_id)
        assert client.flush(10)
    assert _counts(shared_server, "rejects")["signals"] == 27
    assert [e["event_id"] for events, _ in rejected for e in events] == bad_ids
    assert rejected[0][1]["code"] == "invalid_events"
    assert client.stats["rejected"] == 3 and client.stats["accepted"] == 27


def test_an_event_that_is_not_json_goes_to_on_rejected_and_the_rest_are_delivered(
    shared_server: Server, tmp_path: Path
) -> None:
    key = shared_server.create_bot("not-json")
    rejected: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []
    with EdgeloopClient(
        shared_server.url, "not-json", key, spool=tmp_path / "s.db", on_rejected=lambda e, p: rejected.append((e, p))
    ) as client:
        client.price(symbol="EURUSD", price=1.1, ts=T0)
        bad = client.signal(
            symbol="EURUSD",
            direction="long",
            price=1.1,
            conviction=0.5,
            components={"m": object()},
            ts=T0,  # type: ignore[dict-item]
        )
        client.price(symbol="EURUSD", price=1.2, ts=T0 + 1000)
        assert client.flush(10)
    assert [(e[0]["event_id"], p["code"]) for e, p in rejected] == [(bad, "not_json")]
    assert _counts(shared_server, "not-json") == {"signals": 0, "trades": 0, "prices": 2}


def test_a_full_spool_rejects_or_blocks_never_drops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every send fails, the spool fills
    caplog.set_level(logging.WARNING, logger="edgeloop_client")
    client = EdgeloopClient(
        dead, "b", "k", spool=tmp_path / "s.db", batch_size=10, max_spool=50, full_policy="reject", warn_depth=40
    )
    try:
        for i in range(50):
            client.price(symbol="X", price=1.0, ts=T0 + i)
        with pytest.raises(SpoolFull):
            client.price(symbol="X", price=1.0, ts=T0 + 99)
        assert client.depth() == 50
        time.sleep(0.1)
        assert any("50 events wait to be sent" in r.getMessage() for r in caplog.records)
        assert client.flush(0.2) is False  # not delivered, and says so
    finally:
        assert client.close(0.1) is False
    blocking = EdgeloopClient(dead, "b", "k", spool=tmp_path / "s.db", batch_size=10, max_spool=50, block_timeout_s=0.2)
    try:
        assert blocking.depth() == 50  # the spool file kept them across the close
        started = time.monotonic()
        with pytest.raises(SpoolFull):
            blocking.price(symbol="X", price=1.0, ts=T0 + 100)
        assert time.monotonic() - started >= 0.2
    finally:
        blocking.close(0.1)


async def test_the_asyncio_flavour_delivers_the_same_way(shared_server: Server, tmp_path: Path) -> None:
    key = shared_server.create_bot("async-bot")
    async with AsyncEdgeloopClient(
        shared_server.url, "async-bot", key, spool=tmp_path / "a.db", batch_size=40, max_age_s=0.05
    ) as client:
        for i in range(200):
            await client.price(symbol="EURUSD", price=1.1, ts=T0 + i * 1000)
        assert await client.flush(10)
        assert client.depth() == 0
    assert _counts(shared_server, "async-bot")["prices"] == 200
