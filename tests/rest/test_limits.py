"""413 for batches over the configured count or byte limits; nothing stored."""

from __future__ import annotations

import httpx
import pytest

from core.settings import Settings
from tests.builders import create_bot, mixed_batch, row_counts, signal
from tests.conftest import ADMIN_TOKEN
from tests.rest.test_events import post


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Small limits so the 413 tests stay fast.
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        max_batch_events=100,  # type: ignore[arg-type]
        max_body_bytes=64 * 1024,
    )


async def test_too_many_events_is_413_and_stores_nothing(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await create_bot(client)
    response = await post(client, headers, mixed_batch(101))
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert await row_counts(database_url) == {"signals": 0, "trades": 0, "prices": 0}


async def test_too_many_bytes_is_413(client: httpx.AsyncClient) -> None:
    headers = await create_bot(client)
    response = await post(
        client, headers, [signal(strategy="s" * 100, components={f"c{i}": 1.0 for i in range(64)}) for _ in range(90)]
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]
