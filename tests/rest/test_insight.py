"""Learning health and reports over REST, on small markets with a known answer.

Both are read from what the last cycle recorded (the app's embedded runner runs cycles), so each
test queues a dry-run cycle with the bot's own key before reading.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.builders import T0, create_bot, price, signal, trade
from tests.conftest import ADMIN
from tests.workers.scenario import FAST, learnable_events

MIN = 60_000


def marks(symbol: str, start: int, minutes: int, slope: float = 0.0) -> list[dict[str, Any]]:
    """A mark every 30 s for ``minutes`` minutes, price 100 rising ``slope`` per minute."""
    return [price(symbol=symbol, ts=start + i * 30_000, price=100.0 + slope * i / 2) for i in range(minutes * 2 + 1)]


async def post(http: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    response = await http.post("/v1/bots/alpha/events", json={"events": events}, headers=headers)
    assert response.status_code == 200, response.text


async def cycle(http: httpx.AsyncClient, headers: dict[str, str], kind: str = "comprehensive") -> dict[str, Any]:
    """Queue a dry-run cycle with the bot's key and wait until it has finished."""
    queued = await http.post("/v1/bots/alpha/cycles", json={"kind": kind, "dry_run": True}, headers=headers)
    assert queued.status_code == 202, queued.text
    async with asyncio.timeout(15):
        while True:
            record = (await http.get(f"/v1/bots/alpha/cycles/{queued.json()['cycle_id']}", headers=headers)).json()
            if record["status"] in ("succeeded", "failed"):
                assert record["status"] == "succeeded", record
                return record
            await asyncio.sleep(0.05)


async def health(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await http.get("/v1/bots/alpha/health", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_new_bot_reports_no_events(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    body = await health(client, headers)
    assert body["level"] == "warn"
    assert [p["code"] for p in body["problems"]] == ["no_events"]
    assert body["counts"] == {
        "signals": 0,
        "trades": 0,
        "prices": 0,
        "outcomes_resolved": 0,
        "outcomes_pending": 0,
        "outcomes_gap": 0,
    }
    assert set(body["next_runs"]) == {"resolve", "continuous", "comprehensive"}
    assert body["components"] == [] and body["evidence"] is None


async def test_before_the_first_cycle_health_says_so_and_reports_are_not_ready(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    await post(client, headers, [signal(ts=T0, components={"ofi": 1.0}), *marks("BTCUSDT", T0, 10)])
    body = await health(client, headers)
    assert [p["code"] for p in body["problems"]] == ["no_cycle_yet"]
    assert body["components"] == [] and body["evidence"] is None and body["counts"]["signals"] == 1
    response = await client.get("/v1/bots/alpha/reports/signals", headers=headers)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "report_not_ready"
    assert '"kind": "comprehensive"' in response.json()["detail"]
    # A continuous cycle gives health its evidence, but reports still wait for a comprehensive one.
    record = await cycle(client, headers, "continuous")
    body = await health(client, headers)
    assert body["evidence"]["cycle_id"] == record["cycle_id"]
    assert body["evidence"]["as_of"] == "2026-01-01T00:10:00.000Z"  # the watermark: the last mark
    assert "no_cycle_yet" not in [p["code"] for p in body["problems"]]
    assert (await client.get("/v1/bots/alpha/reports/gates", headers=headers)).status_code == 404
    record = await cycle(client, headers)
    page = (await client.get("/v1/bots/alpha/reports/signals", headers=headers)).json()
    assert page["cycle_id"] == record["cycle_id"] and page["as_of"] == "2026-01-01T00:10:00.000Z"


async def test_signals_without_marks_are_gaps_not_resolved(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [signal(symbol="NOMARKS", ts=T0 + i * MIN) for i in range(5)]
    # marks for another symbol push the watermark 3 hours past the signals
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 180)])
    await cycle(client, headers, "continuous")
    body = await health(client, headers)
    [problem] = [p for p in body["problems"] if p["code"] == "no_price_marks"]
    assert problem["detail"]["symbols"] == [{"symbol": "NOMARKS", "signals": 5}]
    assert body["counts"]["outcomes_resolved"] == 0
    assert body["counts"]["outcomes_gap"] == 5 * 5  # 5 signals x 5 horizons


async def test_insufficient_outcomes_names_each_component_and_count(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [signal(ts=T0 + i * MIN, components={"ofi": 1.0, "momentum": -1.0}) for i in range(12)]
    signals += [signal(ts=T0 + i * MIN, components={"ofi": 0.5}) for i in range(12, 20)]
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 180)])
    await cycle(client, headers, "continuous")
    body = await health(client, headers)
    [problem] = [p for p in body["problems"] if p["code"] == "insufficient_outcomes"]
    assert problem["detail"]["components"] == [
        {"name": "momentum", "outcomes": 12, "required": 50},
        {"name": "ofi", "outcomes": 20, "required": 50},
    ]
    assert "momentum 12/50" in problem["message"] and "ofi 20/50" in problem["message"]
    assert [(c["name"], c["status"], c["weight"]) for c in body["components"]] == [
        ("momentum", "insufficient_data", 1.0),
        ("ofi", "insufficient_data", 1.0),
    ]
    assert body["counts"]["outcomes_resolved"] == 20 * 5


async def test_missed_report_lists_blocked_signals_that_would_have_paid(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    blocked = [
        signal(ts=T0 + i * MIN, decision="blocked", blocked_by="conviction_gate", conviction=0.1, direction="long")
        for i in range(6)
    ]
    executed = [signal(ts=T0 + i * MIN, direction="long") for i in range(6, 9)]
    fills = [trade(opened_at=T0 + i * MIN, ts=T0 + i * MIN + 15 * MIN) for i in range(6, 9)]
    await post(client, headers, [*blocked, *executed, *fills, *marks("BTCUSDT", T0, 180, slope=0.5)])
    await cycle(client, headers)
    response = await client.get("/v1/bots/alpha/reports/missed", headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {i["event_id"] for i in items} == {s["event_id"] for s in blocked}
    assert all(i["blocked_by"] == "conviction_gate" and i["would_be_return_bps"] > 0 for i in items)
    assert all(i["ts"].endswith("Z") for i in items)
    gates = (await client.get("/v1/bots/alpha/reports/gates", headers=headers)).json()["items"]
    [gate] = gates
    assert gate["gate"] == "conviction_gate" and gate["blocked"] == 6 and gate["missed_return_bps"] > 0
    assert gate["saved_return_bps"] == 0


async def test_signals_and_combos_reports(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [signal(ts=T0 + i * MIN, components={"ofi": 1.0}) for i in range(10)]
    losers = [
        trade(symbol="ETHUSDT", direction="short", pnl=-1.0, opened_at=T0 + i * MIN, ts=T0 + i * MIN + MIN)
        for i in range(4)
    ]
    await post(client, headers, [*signals, *losers, *marks("BTCUSDT", T0, 180, slope=0.2)])
    await cycle(client, headers)
    rows = (await client.get("/v1/bots/alpha/reports/signals", headers=headers)).json()["items"]
    assert [(r["component"], r["horizon"], r["n"]) for r in rows] == [
        ("ofi", h, 10) for h in ("1m", "5m", "15m", "30m", "1h")
    ]
    assert all(r["ev_bps"] > 0 and r["hit_rate"] == 1.0 for r in rows)
    combos = (await client.get("/v1/bots/alpha/reports/combos", headers=headers)).json()["items"]
    [eth] = [c for c in combos if c["symbol"] == "ETHUSDT"]
    assert eth["direction"] == "short" and eth["trades"] == 4 and eth["win_rate"] == 0.0 and eth["pnl"] == -4.0
    # The 4 trades touch one another (a chain): they count as one decision, so the interval is wide.
    assert eth["wilson_low"] == 0.0 and 0.6 < eth["wilson_high"] < 0.8 and eth["blocked"] is False
    page = (await client.get("/v1/bots/alpha/reports/signals", params={"limit": 2}, headers=headers)).json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None


async def test_signals_report_shows_the_weight_in_force_not_the_proposed_one(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/bots", json={"id": "alpha", "config": FAST}, headers=ADMIN)
    headers = {"Authorization": f"Bearer {created.json()['api_key']}"}
    await post(client, headers, learnable_events())
    record = await cycle(client, headers)  # a dry run: proposes a new ofi weight, applies nothing
    [change] = [c for c in record["changes"] if c["path"] == "weights.ofi"]
    assert change["new"] > 1.0
    [row] = (await client.get("/v1/bots/alpha/reports/signals", headers=headers)).json()["items"]
    assert row["component"] == "ofi" and row["weight"] == 1.0
    applied = await client.post(f"/v1/bots/alpha/cycles/{record['cycle_id']}/apply", headers=ADMIN)
    assert applied.status_code == 201, applied.text
    [row] = (await client.get("/v1/bots/alpha/reports/signals", headers=headers)).json()["items"]
    assert row["weight"] == change["new"]


async def test_rules_report_lists_candidates_kept_and_rejected(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [
        signal(
            ts=T0 + k * MIN,
            price=100.0 + 0.5 * k,
            direction="long" if k % 2 == 0 else "short",
            conviction=0.1 + 0.8 * ((k * 7) % 10) / 10,
        )
        for k in range(240)
    ]
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 330, slope=0.5)])
    record = await cycle(client, headers)
    response = await client.get("/v1/bots/alpha/reports/rules", headers=headers, params={"limit": 500})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cycle_id"] == record["cycle_id"]
    rows = body["items"]
    kept = {tuple(sorted(r["when"].items())): r for r in rows if r["kept"]}
    # in a rising market every short loses and every long pays, whatever else holds
    assert kept[(("direction", "short"),)]["ev_bps"] < 0 and kept[(("direction", "long"),)]["ev_bps"] > 0
    assert all(r["n"] >= 100 and (r["kept"] or r["rejected_because"]) for r in rows)
    assert all(r["rejected_because"] is None for r in rows if r["kept"])
    proposed = {c["path"]: c["new"] for c in record["changes"] if c["path"].startswith("rules[")}
    assert {r["id"] for r in kept.values()} == {path[len("rules[") : -1] for path in proposed}
    assert {rule["effect"] for rule in proposed.values()} == {"avoid", "prefer"}


async def test_slices_report_after_a_comprehensive_cycle(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [
        signal(
            ts=T0 + k * MIN,
            price=100.0 + 0.5 * k,
            direction="long" if k % 2 == 0 else "short",
            components={"ofi": 1.0 if k % 3 else -1.0},
            strategy="breakout" if k % 4 else "reversion",
        )
        for k in range(120)
    ]
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 200, slope=0.5)])
    response = await client.get("/v1/bots/alpha/reports/slices", headers=headers)
    assert response.status_code == 404 and response.json()["code"] == "report_not_ready"
    record = await cycle(client, headers)
    response = await client.get("/v1/bots/alpha/reports/slices", headers=headers, params={"limit": 500})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cycle_id"] == record["cycle_id"]
    rows = {(r["slice_by"], r["symbol"], r["direction"], r["strategy"]): r for r in body["items"]}
    assert set(rows) == {
        ("symbol_direction", "BTCUSDT", "long", None),
        ("symbol_direction", "BTCUSDT", "short", None),
        ("strategy", None, None, "breakout"),
        ("strategy", None, None, "reversion"),
    }
    assert sum(r["n"] for r in body["items"] if r["slice_by"] == "strategy") == 120
    assert all(r["component"] == "ofi" and r["n"] > 0 and r["pooled_ev_bps"] is not None for r in body["items"])


async def test_correlation_report_pairs_components(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [
        signal(ts=T0 + k * MIN, components={"ofi": float(k % 7) - 3.0, "copy": float(k % 7) - 2.9, "lag": float(k % 5)})
        for k in range(60)
    ]
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 120, slope=0.5)])
    response = await client.get("/v1/bots/alpha/reports/correlation", headers=headers)
    assert response.status_code == 404 and response.json()["code"] == "report_not_ready"
    record = await cycle(client, headers)
    body = (await client.get("/v1/bots/alpha/reports/correlation", headers=headers)).json()
    assert body["cycle_id"] == record["cycle_id"]
    rows = {(r["component_a"], r["component_b"]): r for r in body["items"]}
    assert set(rows) == {("copy", "lag"), ("copy", "ofi"), ("lag", "ofi")}
    # ofi = 0 on a seventh of the signals (not carried): the pair counts only signals carrying both
    assert rows[("copy", "ofi")]["n"] < 60 and rows[("copy", "ofi")]["score_corr"] > 0.99
    assert abs(rows[("lag", "ofi")]["score_corr"]) < 0.5
