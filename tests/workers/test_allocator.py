"""Processes that run cycles keep freed memory for the next arrays (glibc): a freed 16 MiB array stays
in the heap, ready for reuse, instead of going back to the kernel. Each case in a fresh interpreter,
since the setting is process-wide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import ctypes, sys
import numpy as np
from workers.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
applied = keep_freed_memory(int(sys.argv[1]))
block = np.ones(2 << 20)  # 16 MiB
del block
print(applied, libc.mallinfo2().fordblks >> 20)
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")


def _probe(keep_mb: int) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(keep_mb)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return out[0] == "True", int(out[1])


def test_freed_arrays_stay_in_the_heap_when_tuned_and_go_back_by_default() -> None:
    applied, free_mb = _probe(1024)
    assert applied and free_mb >= 16  # kept for the next array
    applied, free_mb = _probe(0)
    assert not applied and free_mb < 16  # glibc's default: a 16 MiB array is mmapped and unmapped
