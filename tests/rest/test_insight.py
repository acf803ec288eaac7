"""Learning health and reports over REST, on small markets with a known answer."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders import T0, create_bot, price, signal, trade

MIN = 60_000


def marks(symbol: str, start: int, minutes: int, slope: float = 0.0) -> list[dict[str, Any]]:
    """A mark every 30 s for ``minutes`` minutes, price 100 rising ``slope`` per minute."""
    return [price(symbol=symbol, ts=start + i * 30_000, price=100.0 + slope * i / 2) for i in range(minutes * 2 + 1)]


async def post(http: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    response = await http.post("/v1/bots/alpha/events", json={"events": events}, headers=headers)
    assert response.status_code == 200, response.text


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


async def test_signals_without_marks_are_gaps_not_resolved(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    signals = [signal(symbol="NOMARKS", ts=T0 + i * MIN) for i in range(5)]
    # marks for another symbol push the watermark 3 hours past the signals
    await post(client, headers, [*signals, *marks("BTCUSDT", T0, 180)])
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
    rows = (await client.get("/v1/bots/alpha/reports/signals", headers=headers)).json()["items"]
    assert [(r["component"], r["horizon"], r["n"]) for r in rows] == [
        ("ofi", h, 10) for h in ("1m", "5m", "15m", "30m", "1h")
    ]
    assert all(r["ev_bps"] > 0 and r["hit_rate"] == 1.0 for r in rows)
    combos = (await client.get("/v1/bots/alpha/reports/combos", headers=headers)).json()["items"]
    [eth] = [c for c in combos if c["symbol"] == "ETHUSDT"]
    assert eth["direction"] == "short" and eth["trades"] == 4 and eth["win_rate"] == 0.0 and eth["pnl"] == -4.0
    assert eth["wilson_low"] == 0.0 and 0 < eth["wilson_high"] < 0.6 and eth["blocked"] is False
    page = (await client.get("/v1/bots/alpha/reports/signals", params={"limit": 2}, headers=headers)).json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None
