"""Milestones of a run (pool started, workers warm, Prefect up, first batch done) for the benchmarks.

Off unless ``KETL_TIMELINE`` names a file: then each milestone appends one line
``<event>\\t<unix time>\\t<pid>`` to it, from whichever process reaches it (the
CLI, the flow, a pool worker). Unix time, not a monotonic clock, so that the
benchmark that started ``ketl run`` can subtract its own start time. A line is
one ``write`` on a file opened for appending: lines of several processes do not
mix.
"""

from __future__ import annotations

import os
import time

ENV = "KETL_TIMELINE"


def mark(event: str) -> None:
    """Note that ``event`` happened now (no-op without ``KETL_TIMELINE``)."""
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{event}\t{time.time():.4f}\t{os.getpid()}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass  # a benchmark's trace must never fail a run


def read(path: str, since: float) -> list[tuple[str, float, int]]:
    """The milestones in ``path`` as (event, seconds after ``since``, pid), in time order."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            event, at, pid = line.rstrip("\n").split("\t")
            rows.append((event, float(at) - since, int(pid)))
    return sorted(rows, key=lambda r: r[1])
