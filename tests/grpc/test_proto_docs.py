"""Every RPC, message, enum, field and enum value of the protos carries a comment (generated clients show them)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECLARATION = re.compile(
    r"^\s*(rpc \w+|message \w+|enum \w+|service \w+|oneof \w+"
    r"|(optional |repeated )?[\w.]+(<[\w., ]+>)? \w+ = \d+;|[A-Z][A-Z0-9_]* = \d+;)"
)


def test_every_declaration_has_a_comment() -> None:
    bare, seen = [], 0
    for proto in sorted((ROOT / "proto" / "edgeloop" / "v1").glob("*.proto")):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            if DECLARATION.match(line):
                seen += 1
                if not lines[number - 1].strip().startswith("//"):
                    bare.append(f"{proto.name}:{number + 1}: {line.strip()}")
    assert seen > 150 and bare == []


def test_closed_sets_are_enums_not_strings() -> None:
    learning = (ROOT / "proto" / "edgeloop" / "v1" / "learning.proto").read_text()
    for declaration in ("HealthLevel level", "ComponentStatus status", "CycleStatus status", "CycleKind kind"):
        assert declaration in learning
    assert "string level" not in learning and "string status" not in learning
