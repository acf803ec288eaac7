"""Memory allocator settings for the processes that run learning cycles (``edgeloop worker``, and
``edgeloop serve`` when it runs the jobs in-process).

A cycle over a million signals allocates and frees gigabytes of short-lived numpy arrays. With
glibc's defaults, every array over its mmap threshold gets fresh pages from the kernel and gives them
back when freed, so the next cycle (and the next step of this one) page-faults all of them in again:
at 1M signals that was about a third of a comprehensive cycle (``bench/cycle.py``). Keeping freed
memory in the heap, up to a bound, lets the next arrays reuse it. The price: the process holds on
to up to that much freed memory between cycles.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger("edgeloop.worker")

# mallopt(3) parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc's ceiling on 64-bit; larger arrays are always mmapped
_TOP_PAD = 64 << 20
MAX_KEEP_MB = (2**31 - 1) >> 20  # mallopt takes a C int


def keep_freed_memory(keep_mb: int) -> bool:
    """Let this process keep up to ``keep_mb`` MiB of freed memory for reuse instead of returning it
    to the kernel, and serve arrays up to 32 MiB from the heap. 0 leaves the allocator alone.
    Returns whether the settings took effect (glibc on Linux only; elsewhere nothing changes)."""
    if keep_mb <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        log.info("allocator settings not applied: no glibc mallopt")
        return False
    keep = min(keep_mb, MAX_KEEP_MB) << 20
    settings = ((_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX), (_M_TRIM_THRESHOLD, keep), (_M_TOP_PAD, _TOP_PAD))
    return all(mallopt(param, value) == 1 for param, value in settings)
