"""/docs works offline: every script, style and icon it references is served by the app itself."""

from __future__ import annotations

import re

import httpx


async def test_docs_reference_only_assets_the_app_serves(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", page.text)  # the spec the page loads
    assert len(urls) >= 4, urls
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by the app (a CDN?)"
        response = await client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 100, url
    assert (await client.get("/redoc")).status_code == 404  # no CDN page left behind
