"""The cyclic garbage collector's policy in a pool worker (never in any other process).

A warm worker holds hundreds of thousands of long-lived objects (compiled rules,
the gazetteer, the stages' line memos, the site-line stats) and each batch step
allocates millions of short-lived ones. With Python's defaults a collection
starts every 700 net allocations and now and then walks the whole heap, mostly
inside the stage timers: 2.6 CPU s of 39 for one worker's steps over 12,000
benchmark articles (gc callbacks), while the collectors found 548 unreachable
objects in all (ketl's data are trees: documents, edits, tables). So:

* none during the warm-up (it builds those tables and throws little away);
* after the warm-up and after each step that succeeds, one full collection
  (outside the stages' timers), then ``gc.freeze()``: what survived (the
  worker's tables, the memos so far) is never walked again; what a frozen
  object later lets go of is still freed by reference counting, only a
  *cycle* among frozen objects would stay (none is made here; a step that
  fails is not frozen: its exception and frames hold cycles);
* young collections every 100,000 net allocations rather than 700, so the
  ones that are left find the batch's short-lived objects already gone.

Measured with benchmarks/bench_worker_gc.py on 12,000 articles: the collector's
time 2.58 -> 0.12 s, plus 0.06 s for the collections between steps; the
stages 2.27 -> 2.10 ms per article, peak RSS 621 -> 589 MiB. The policy changes
no result: it only decides when unreachable cycles are freed.

Process-wide settings: only the pool's own workers take them (flows/pool.py),
never the process that calls ``curate`` (a user's notebook, a Dask worker).
"""

from __future__ import annotations

import gc

# (young, middle, old): young collections every 100,000 net allocations of
# container objects; the others keep their ratio to it as in CPython's defaults.
THRESHOLDS = (100_000, 50, 100)

_ON: list[bool] = []  # set by start_worker: this process is a pool worker


def _settle() -> None:
    """Collect once, then keep everything alive now out of every later collection."""
    gc.collect()
    gc.freeze()


def before_warm_up() -> None:
    """No collections during the warm-up (compiling rules, loading tables: 0.25 of
    its 1.7 CPU s were the collector's, for no garbage); :func:`start_worker` ends it."""
    gc.disable()


def start_worker() -> None:
    """The policy, from the end of a worker's warm-up on (the pool's initializer)."""
    gc.enable()
    _settle()
    gc.set_threshold(*THRESHOLDS)
    _ON.append(True)


def step_done() -> None:
    """After a step that succeeded, outside its timers (a no-op outside pool workers)."""
    if _ON:
        _settle()
