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


# Profiling for the benchmarks: off unless ``KETL_PROFILE`` names a folder. Then a pool
# worker profiles each step it runs (cProfile, one stats file per process, rewritten
# after every step: workers are ended without an exit hook) and the ``ketl run``
# process writes its threads' CPU seconds at its exit (Prefect's work runs in threads
# cProfile does not follow). Load the stats with pstats; see benchmarks/profile_run.py.
PROFILE_ENV = "KETL_PROFILE"
_PROFILER: list = []


def profiler():
    """This process's cProfile.Profile when ``KETL_PROFILE`` is set, else None."""
    if not os.environ.get(PROFILE_ENV):
        return None
    if not _PROFILER:
        import cProfile

        _PROFILER.append(cProfile.Profile(time.thread_time))  # CPU of the profiled thread, not wall time
    return _PROFILER[0]


def dump_profile(kind: str) -> None:
    """Write this process's profile so far as ``<KETL_PROFILE>/<kind>-<pid>.prof``."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder or not _PROFILER:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        _PROFILER[0].dump_stats(os.path.join(folder, f"{kind}-{os.getpid()}.prof"))
    except OSError:
        pass


def dump_threads(kind: str) -> None:
    """Each thread's name and CPU seconds (Linux /proc) as ``<KETL_PROFILE>/<kind>-<pid>.threads``."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return
    tick = os.sysconf("SC_CLK_TCK")
    rows = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as fh:
                stat = fh.read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            rows.append(f"{name}\t{tid}\t{(int(fields[11]) + int(fields[12])) / tick:.2f}\n")
        t = os.times()  # the process's whole CPU: threads that ended are in it, not above
        rows.append(f"process (threads ended included)\t{os.getpid()}\t{t.user + t.system:.2f}\n")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{kind}-{os.getpid()}.threads"), "w") as fh:
            fh.writelines(rows)
    except OSError:
        pass
