"""Issue 11, item 5: concurrent batches with the same ids in opposite orders never deadlock (never a 500).

The reproduction: two batches carrying the same 3,000 signal ids, one reversed, posted at once, again
and again. PostgreSQL aborted one of each pair with "deadlock detected" (a 500) before rows went in
key order; now every request succeeds and each id is stored once.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.builders import T0, create_bot, row_counts, signal


async def test_same_ids_in_opposite_order_concurrently(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    rounds, size = 4, 3000
    statuses: list[int] = []
    for r in range(rounds):
        events = [
            signal(event_id=f"s{r}-{i}", ts=T0 + i, symbol=f"S{i % 7}", components={f"c{i % 50}": 1.0})
            for i in range(size)
        ]
        prices = [{"type": "price", "symbol": f"S{i % 7}", "ts": T0 + r * size + i, "price": 1.0} for i in range(size)]
        forward, backward = events + prices, (events + prices)[::-1]
        responses = await asyncio.gather(
            *(
                client.post("/v1/bots/alpha/events", json={"events": batch}, headers=headers)
                for batch in (forward, backward, forward)
            )
        )
        statuses += [response.status_code for response in responses]
        assert sum(response.json()["accepted"] for response in responses) == 2 * size, [
            response.text[:200] for response in responses
        ]
    assert statuses == [200] * (3 * rounds)
    assert await row_counts(database_url) == {"signals": rounds * size, "trades": 0, "prices": rounds * size}
