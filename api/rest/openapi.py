"""Export the OpenAPI document the app serves, as YAML (`make openapi` writes openapi.yaml)."""

from __future__ import annotations

import sys

import yaml

from api.rest.app import create_app


def render() -> str:
    return yaml.safe_dump(create_app().openapi(), sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    sys.stdout.write(render())
