"""openapi.yaml is what the app serves; regenerate with `make openapi` when this fails."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from api.rest.openapi import render

ROOT = Path(__file__).resolve().parents[1]


def test_openapi_yaml_matches_the_app() -> None:
    assert (ROOT / "openapi.yaml").read_text() == render(), "openapi.yaml drifted: run `make openapi`"


async def test_served_spec_equals_the_file(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert {"/healthz", "/readyz", "/metrics"} <= set(served["paths"])


def test_every_operation_has_a_summary() -> None:
    spec = yaml.safe_load(render())
    missing = [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items() if not op.get("summary")]
    assert missing == []
