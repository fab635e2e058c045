"""Give a finished step's freed memory back to the system.

A worker process runs every kind of step of a run (batches, band tasks, the
cluster step). glibc keeps the heap pages numpy freed (its mmap threshold
rises after the first large free, so later large arrays come from the heap),
and Arrow's mimalloc pool keeps its pages too: a worker's RSS was the sum of
its steps' high-water marks rather than the largest one (400 MB resident with
37 MB in use after the cluster step of a 100,000-article run, measured with
tracemalloc and /proc/self/status). Trimming once per step costs a few
milliseconds; trimming inside the steps (Dask's MALLOC_TRIM_THRESHOLD_) made
MinHash 3x slower, see flows/flow.py.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any, Callable


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_memory() -> None:
    """Return free heap and Arrow pool pages to the system (best effort)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def releasing(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, then :func:`release_memory`: how a worker runs a step."""
    try:
        return fn(*args)
    finally:
        release_memory()


def lean_arrow_pool() -> None:
    """Give the calling process Arrow's system allocator (glibc malloc) instead of mimalloc.

    For the flow's process, which holds a few long-lived tables (the stored
    processed-files state) rather than streaming many: mimalloc kept 42-54 MiB
    of RSS to read the 16 MiB state of 100,000 files, glibc 26, and a table read
    later reuses the freed pages. The workers keep mimalloc, faster for their
    many short-lived buffers (and :func:`release_memory` hands its pages back).
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())

