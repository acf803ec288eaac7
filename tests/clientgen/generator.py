"""openapi-python-client in a venv of its own, keyed by the hash of its pin file.

The generator's dependencies conflict with the project's pins, so it cannot live in .venv itself.
`make generator` (run by `make test`) calls this module; the client-generation test calls it too,
so `pytest` alone also works on a fresh machine. Installing takes ~20 s once; after that it is a stat.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PINS = HERE / "generator-requirements.txt"


def generator_venv() -> Path:
    return ROOT / ".venv" / f"generator-{hashlib.sha256(PINS.read_bytes()).hexdigest()[:12]}"


def ensure_generator() -> Path:
    """The path of the `openapi-python-client` executable, installing it first if needed."""
    home = generator_venv()
    exe = home / "bin" / "openapi-python-client"
    done = home / ".installed"
    if done.exists() and exe.exists():
        return exe
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    subprocess.run(
        [
            str(home / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(PINS),
        ],
        check=True,
    )
    done.touch()
    return exe


if __name__ == "__main__":
    sys.stdout.write(f"{ensure_generator()}\n")
