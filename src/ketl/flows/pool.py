"""The worker processes a flow run computes its batches in (see flows/flow.py for why).

A :class:`ComputePool` belongs to one flow run: ``run_pipeline`` opens it
around the run and closes it at the end (or on Ctrl-C). The batch tasks reach
it through :data:`CURRENT`, a context variable the pool sets while it is open:
Prefect's thread task runner runs each task in a copy of the flow's context,
so the tasks of this run see this run's pool and nothing else does. On a Dask
worker (another process) no pool is set and the task computes in place.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextvars import ContextVar
from typing import Any, Callable

from ..run import interrupt, timeline
from ..run.watchdog import exit_with_parent

# The pool of the flow run whose context this is (None: compute in this process).
CURRENT: ContextVar["ComputePool | None"] = ContextVar("ketl_compute_pool", default=None)


class ComputePool:
    """``workers`` processes for the batch work of one run (none when ``workers`` is 1)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "ComputePool":
        self._off: Callable[[], None] = lambda: None
        if self.workers > 1:
            # spawn, not fork: the flow process runs Prefect's threads and event loops.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start, initargs=(os.getpid(),))
            self._off = interrupt.on_interrupt(self.stop_now)
            timeline.mark("pool started")
        self._token = CURRENT.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        CURRENT.reset(self._token)
        self._off()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def compute(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker process (in this one without workers)."""
        if self._executor is None:
            return fn(*args)
        return self._executor.submit(fn, *args).result()

    def stop_now(self, grace: float = 1.0) -> None:
        """On Ctrl-C: end the workers now (SIGTERM, SIGKILL after ``grace``); the
        batches they run are thrown away with the staging snapshot. ``shutdown``
        would wait for every running batch."""
        procs = list((getattr(self._executor, "_processes", None) or {}).values())  # no public handle
        for p in procs:
            p.terminate()
        deadline = time.monotonic() + grace
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()


def compute(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the current run's pool, or here when there is none (a Dask worker)."""
    pool = CURRENT.get()
    return pool.compute(fn, *args) if pool is not None else fn(*args)


def _worker_start(parent: int) -> None:
    interrupt.ignore_in_worker()
    exit_with_parent(parent)
