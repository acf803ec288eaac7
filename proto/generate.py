"""Generate the Python stubs of proto/edgeloop/v1/*.proto (``make proto``; the drift test calls it too).

Equivalent to running, from the repository root::

    python -m grpc_tools.protoc -I . --python_out=. --grpc_python_out=. --pyi_out=. proto/edgeloop/v1/*.proto

so generated imports read ``from proto.edgeloop.v1 import events_pb2``.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = Path("proto/edgeloop/v1")


def proto_files() -> list[str]:
    """The .proto files, relative to the repository root, in a stable order."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / PROTO_DIR).glob("*.proto"))


def generate(out_dir: Path = ROOT) -> list[Path]:
    """Write ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` under ``out_dir``; returns the files written."""
    from grpc_tools import protoc

    well_known = str(resources.files("grpc_tools") / "_proto")
    out = str(out_dir)
    args = [
        "grpc_tools.protoc",
        "-I",
        str(ROOT),
        "-I",
        well_known,
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--pyi_out={out}",
        *(str(ROOT / f) for f in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    return sorted((out_dir / PROTO_DIR).glob("*_pb2*.py*"))


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(ROOT))
    sys.exit(0)
