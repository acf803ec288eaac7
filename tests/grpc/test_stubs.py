"""The checked-in stubs are exactly what `make proto` (python -m proto.generate) produces."""

from __future__ import annotations

from pathlib import Path

from proto import generate


def test_generated_stubs_match_the_proto_files(tmp_path: Path) -> None:
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in generate.generate(tmp_path)}
    checked_in = {
        p.relative_to(generate.ROOT): p.read_bytes() for p in (generate.ROOT / generate.PROTO_DIR).glob("*_pb2*.py*")
    }
    assert sorted(map(str, fresh)) == sorted(map(str, checked_in)), "stub files differ: run `make proto`"
    stale = [str(path) for path, data in fresh.items() if checked_in[path] != data]
    assert not stale, f"stubs out of date with the .proto files: {stale}; run `make proto`"


def test_every_message_and_field_is_documented() -> None:
    for path in (generate.ROOT / generate.PROTO_DIR).glob("*.proto"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            text = line.strip()
            declares = text.startswith(("message ", "enum ", "service ", "rpc ", "oneof ")) or (
                text.endswith(";") and "=" in text and not text.startswith(("syntax", "option"))
            )
            if declares:
                assert lines[number - 1].strip().startswith("//"), f"{path.name}:{number + 1} has no comment: {text}"
