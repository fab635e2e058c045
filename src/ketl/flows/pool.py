"""The worker processes a flow run computes its batches in (see flows/flow.py for why).

A :class:`ComputePool` belongs to one flow run. The batch tasks reach it
through :data:`CURRENT`, a context variable the pool sets while it is open:
Prefect's thread task runner runs each task in a copy of the flow's context,
so the tasks of this run see this run's pool and nothing else does. On a Dask
worker (another process) no pool is set and the task computes in place.

``ketl run`` starts the pool *early* (:func:`start_early`), before Prefect is
imported and its temporary server started (10-25 s here): each worker spends
that time loading what the stages load lazily (:mod:`ketl.run.warm`) instead
of paying for it in its first batch. The flow's :func:`for_run` then adopts
that pool; without one (``curate`` called from Python, a deployment) it opens
its own, as before. Either way the pool's workers are stopped on Ctrl-C
(:func:`ketl.run.interrupt.on_interrupt`) from the moment they exist.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Hashable, Iterator, Sequence

from ..run import interrupt, progress, timeline, worker_gc
from ..run.release import releasing
from ..run.watchdog import exit_with_parent

# The pool of the flow run whose context this is (None: compute in this process).
CURRENT: ContextVar["ComputePool | None"] = ContextVar("ketl_compute_pool", default=None)


class ComputePool:
    """``workers`` processes for the batch work of one run (none when ``workers`` is 1).

    ``warm`` is ``(settings, config_hash)`` of the run: each worker compiles that
    run's resources and fills the stages' caches as it starts (``None``: only
    the tables that do not depend on settings).
    """

    def __init__(self, workers: int, warm: tuple[Any, str | None] | None = None) -> None:
        self.workers = workers
        self.warm = warm
        self._executor: ProcessPoolExecutor | None = None
        self._off: Callable[[], None] = lambda: None
        self._started: list[Future] = []
        self._tokens: list = []
        self._lock = threading.Lock()
        self._phases: set[str] = set()  # phases with a batch done (for the timeline's first mark)
        # The result of each batch done, by (phase, key): a retried task reruns only
        # the batches its failed attempt did not finish, and counts none twice.
        self._done: dict[tuple, Any] = {}

    def start(self) -> "ComputePool":
        """Spawn every worker now (not at the first batch); they warm up in the background."""
        if self.workers > 1 and self._executor is None:
            # spawn, not fork: the flow process runs Prefect's threads and event loops.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start, initargs=(os.getpid(), self.warm))
            self._off = interrupt.on_interrupt(self.stop_now)
            # The executor spawns a process per task submitted while none is idle:
            # one trivial task per worker starts them all at once.
            self._started = [self._executor.submit(os.getpid) for _ in range(self.workers)]
            timeline.mark("pool started")
        return self

    def __enter__(self) -> "ComputePool":
        self.start()
        self._tokens.append(CURRENT.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        CURRENT.reset(self._tokens.pop())
        self.close()

    def close(self) -> None:
        """Wait for the running batches and end the workers (idempotent)."""
        self._off()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def ready(self, timeout: float | None = None) -> bool:
        """Have all workers started and warmed up (within ``timeout`` seconds)?"""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for f in self._started:
                f.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - a timeout, or a broken pool: the first batch will say
            return False
        return True

    def compute(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker process (in this one without workers)."""
        if self._executor is None:
            return fn(*args)
        return self._executor.submit(traced, fn, *args).result()

    def batch_done(self, phase: str, key: Hashable = None, result: Any = None) -> None:
        """A batch of ``phase`` is done (in a task's thread) with ``result``: the
        progress bar moves, once per ``key``, and the result is kept for a retry
        of its task (:meth:`done_before`)."""
        with self._lock:
            if key is not None:
                if (phase, key) in self._done:
                    return
                self._done[(phase, key)] = result
            first = phase not in self._phases
            self._phases.add(phase)
        if first:
            timeline.mark(f"first batch done ({phase})")
        progress.advance(phase, 1)

    def done_before(self, phase: str, key: Hashable) -> tuple[bool, Any]:
        """``(True, result)`` when the batch ``key`` of ``phase`` is done in this run."""
        with self._lock:
            if key is None or (phase, key) not in self._done:
                return False, None
            return True, self._done[(phase, key)]

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
        for p in procs:  # reap the killed ones: is_alive() right after kill() may still say yes
            p.join(0.5)


# The pool ``ketl run`` started before Prefect, waiting for its flow run to adopt it.
_EARLY: list[ComputePool] = []


@contextmanager
def start_early(workers: int, settings: Any, config_hash: str | None) -> Iterator[ComputePool]:
    """Start the run's pool now, warmed for ``settings``, for :func:`for_run` to adopt;
    stop it when the block ends (the run is over, or it never started)."""
    pool = ComputePool(workers, (settings, config_hash)).start()
    _EARLY.append(pool)
    try:
        yield pool
    finally:
        _EARLY.remove(pool)
        # The run is over (or never started): nothing the workers could still do is
        # wanted, so end them now rather than wait for each interpreter's exit, which
        # took 0.7-2.8 s for workers holding a run's tables (measured).
        pool.stop_now()
        pool.close()


@contextmanager
def for_run(workers: int) -> Iterator[ComputePool]:
    """The pool of a flow run: the early one when it has as many workers, else a new one."""
    early = next((p for p in _EARLY if p.workers == workers and p.warm is not None), None)
    if early is None:
        with ComputePool(workers) as pool:
            yield pool
        return
    token = CURRENT.set(early)
    try:
        yield early
    finally:
        CURRENT.reset(token)


def compute(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the current run's pool, or here when there is none (a Dask worker)."""
    pool = CURRENT.get()
    return pool.compute(fn, *args) if pool is not None else releasing(fn, *args)


def compute_each(fn: Callable[..., Any], calls: Sequence[tuple], phase: str = "",
                 keys: Sequence[Hashable] | None = None) -> list:
    """``fn(*args)`` for each ``args`` of ``calls``, side by side in the current run's pool
    (one after another without one); the results in order. In the flow's process
    (a pool is current) each call done advances ``phase``'s progress; elsewhere (a
    Dask worker) the flow counts the task's calls when the task is done.

    Lets one Prefect task stand for several batches (8 task runs per 20,000
    articles instead of 51: less of the flow process's CPU, which the workers
    share the cores with; about 1-1.7 CPU s measured), while the pool still
    balances the batches one by one over its workers. When a call
    fails, the calls not started are cancelled and the running ones finished
    before the error is raised: a retry of the task must not write a batch's
    files while an earlier attempt still does. ``keys`` name the calls' batches:
    a retry of the task reruns only the batches not done (their results are
    kept by the pool; a batch step rewrites all its files, so a batch done
    stays done), and its progress counts each batch once.
    """
    pool = CURRENT.get()
    keys = list(keys) if keys is not None else [None] * len(calls)
    out: list = [None] * len(calls)
    todo = []
    for i, key in enumerate(keys):
        found, result = pool.done_before(phase, key) if pool is not None else (False, None)
        if found:
            out[i] = result
        else:
            todo.append(i)

    finished: set[int] = set()

    def done(i: int, result: Any) -> None:
        out[i] = result
        finished.add(i)
        if pool is not None and phase:
            pool.batch_done(phase, keys[i], result)

    executor = pool._executor if pool is not None else None  # noqa: SLF001 - same module
    if executor is None:
        for i in todo:
            done(i, pool.compute(fn, *calls[i]) if pool is not None else releasing(fn, *calls[i]))
        return out
    futures = {executor.submit(traced, fn, *calls[i]): i for i in todo}
    try:
        for fut in as_completed(futures):
            done(futures[fut], fut.result())  # the first error, as soon as it happens
    except BaseException:
        for fut in futures:
            fut.cancel()
        wait(futures)
        for fut, i in futures.items():  # finished while the others were stopped: done too
            if i not in finished and fut.done() and not fut.cancelled() and fut.exception() is None:
                done(i, fut.result())
        raise
    return out


def traced(fn: Callable[..., Any], *args: Any) -> Any:
    """How a worker runs a step: :func:`releasing`, between two timeline marks
    (``work start``/``work end``), so a benchmark can tell when each core idled."""
    timeline.mark(f"work start: {fn.__name__}")
    prof = timeline.profiler()  # KETL_PROFILE: where a worker's CPU goes, step by step
    if prof is not None:
        prof.enable()
    try:
        result = releasing(fn, *args)
        worker_gc.step_done()  # what the step keeps (memos, stats) is not walked again
        return result
    finally:
        if prof is not None:
            prof.disable()
            timeline.dump_profile("worker")
        timeline.mark(f"work end: {fn.__name__}")


def _worker_start(parent: int, warm: tuple[Any, str | None] | None = None) -> None:
    interrupt.ignore_in_worker()
    exit_with_parent(parent)
    from ..run.warm import keep_pandas_out, warm_worker

    keep_pandas_out()
    worker_gc.before_warm_up()  # a worker's collector policy: see run/worker_gc.py
    try:
        warm_worker(*(warm or (None, None)))
    finally:
        worker_gc.start_worker()
