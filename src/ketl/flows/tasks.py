"""The Prefect tasks of the ``curate`` flow: each wraps one batch step of :mod:`ketl.run`.

Batch tasks are idempotent (they rewrite their own files in the run's staging
and work folders), so a transient I/O error is retried. The CPU-heavy ones
hand their step to the run's worker processes (:func:`ketl.flows.pool.compute`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from ..ingest.scan import SourceFile
from ..run.batch import BatchCounts, RunContext, finish_batch, prepare_batch, write_processed, write_site_lines
from ..run.dedup import (INDEXES, DedupPlan, FinalCounts, ShardPairs, band_shard, finalize_half, register_index,
                         write_quote_propagation)
from .pool import compute, compute_each

T = TypeVar("T")

_RETRY = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 1}


def _run_name(step: str, key: str) -> Callable[[], str]:
    """A task run's name from the batches (or shards) it computes: ``prepare-3`` or ``prepare-0-9``."""
    def name() -> str:
        from prefect.runtime import task_run

        items = task_run.parameters.get(key) or [0]
        return f"{step}-{items[0]}" if len(items) == 1 else f"{step}-{items[0]}-{items[-1]}"
    return name


class Sealed(Generic[T]):
    """A task argument Prefect hands over as it is. It walks lists, tuples, dicts and
    dataclasses looking for futures, twice per task run: every SourceFile of a
    batch, 1 CPU s of the flow process per 20,000 files (measured); other
    objects it leaves alone."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


# One task run may stand for several batches (the flow groups them with a local
# pool: see pool.compute_each); on a Dask worker each computes one.
@task(name="prepare-batch", task_run_name=_run_name("prepare", "batches"), **_RETRY)
def prepare_task(ctx: RunContext, batches: list[int], units: Sealed[list[list[SourceFile]]],
                 recount: Sealed[list[list[str]]]) -> list[BatchCounts]:
    return compute_each(prepare_batch, [(ctx, *call) for call in zip(batches, units.value, recount.value)], "read",
                        [(ctx.run_id, b) for b in batches])


@task(name="finish-batch", task_run_name=_run_name("finish", "batches"), **_RETRY)
def finish_task(ctx: RunContext, batches: list[int]) -> list[BatchCounts]:
    return compute_each(finish_batch, [(ctx, b) for b in batches], "curate", [(ctx.run_id, b) for b in batches])


@task(name="site-lines", **_RETRY)
def site_lines_task(ctx: RunContext, previous: Path | None, batches: list[int]) -> int:
    """Merge this run's per-site line counts into the stored ones (state for later runs),
    in a pool worker (``write_site_lines``)."""
    return compute_each(write_site_lines, [(ctx, previous, batches)])[0]


@task(name="processed-files", **_RETRY)
def processed_task(ctx: RunContext, previous: Path | None, restat: Sealed, batches: list[int]) -> int:
    """The processed-files state, in a pool worker (``write_processed``)."""
    return compute_each(write_processed, [(ctx, previous, restat.value, batches)])[0]


@task(name="dedup-register", **_RETRY)
def register_task(ctx: RunContext, batches: list[int], previous: Path | None) -> DedupPlan:
    """Both indexes side by side in the pool (one after another on a Dask worker)."""
    plans = compute_each(register_index, [(ctx, name, batches, previous) for name in INDEXES])
    return DedupPlan(dict(zip(INDEXES, plans)))


# The LSH band group-by: one task per group of bands, each on whichever worker
# the task runner picks (a Dask worker with --runner dask); with a local pool one
# task computes every group, the pool spreading them over its workers.
@task(name="dedup-bands", task_run_name=_run_name("bands", "shards"), **_RETRY)
def band_task(ctx: RunContext, plan: DedupPlan, shards: list[int]) -> list[ShardPairs]:
    return compute_each(band_shard, [(ctx, plan, shard) for shard in shards], "dedup",
                        [(ctx.run_id, s) for s in shards])


@task(name="cluster", **_RETRY)
def finalize_task(ctx: RunContext, batches: list[int], previous: Path | None, plan: DedupPlan | None,
                  shards: list[ShardPairs], replaced: list[str]) -> FinalCounts:
    """The two indexes side by side in the pool (the articles half then builds
    article_clusters), then quote_clusters, which reads both."""
    halves = compute_each(finalize_half, [(ctx, name, batches, previous, plan, shards, replaced)
                                          for name in INDEXES])
    compute(write_quote_propagation, ctx)
    return halves[0].plus(halves[1])
