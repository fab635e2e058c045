"""The Prefect tasks of the ``curate`` flow: each wraps one batch step of :mod:`ketl.run`.

Batch tasks are idempotent (they rewrite their own files in the run's staging
and work folders), so a transient I/O error is retried. The CPU-heavy ones
hand their step to the run's worker processes (:func:`ketl.flows.pool.compute`).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from ..ingest.scan import SourceFile
from ..run.batch import SITE_LINES, BatchCounts, RunContext, finish_batch, merge_site_lines, prepare_batch, resources
from ..run.dedup import DedupPlan, ShardPairs, band_shard, finalize_run, register_run
from ..store import STATE
from .pool import compute

_RETRY = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 1}


@task(name="prepare-batch", task_run_name="prepare-{batch}", **_RETRY)
def prepare_task(ctx: RunContext, batch: int, units: list[SourceFile], recount: list[str]) -> BatchCounts:
    return compute(prepare_batch, ctx, batch, units, recount)


@task(name="finish-batch", task_run_name="finish-{batch}", **_RETRY)
def finish_task(ctx: RunContext, batch: int) -> BatchCounts:
    return compute(finish_batch, ctx, batch)


@task(name="site-lines", **_RETRY)
def site_lines_task(ctx: RunContext, previous: Path | None, batches: list[int]) -> int:
    """Merge this run's per-site line counts into the stored ones (state for later runs)."""
    merged = merge_site_lines(ctx, previous, batches)
    pq.write_table(merged, Path(ctx.staging) / STATE / SITE_LINES, compression="zstd")
    # Workers only need lines that are frequent enough to be judged repeated.
    min_docs = resources(ctx.settings, ctx.config_hash).boilerplate.repeated_min_docs
    active = merged.filter(pc.or_(pc.is_null(merged.column("line_key")),
                                  pc.greater_equal(merged.column("n_docs"), min_docs)))
    pq.write_table(active, ctx.files.site_lines_active())
    return active.num_rows


@task(name="dedup-register", **_RETRY)
def register_task(ctx: RunContext, batches: list[int], previous: Path | None) -> DedupPlan:
    return compute(register_run, ctx, batches, previous)


# The LSH band group-by: one task per group of bands, each on whichever worker
# the task runner picks (a Dask worker with --runner dask).
@task(name="dedup-bands", task_run_name="bands-{shard}", **_RETRY)
def band_task(ctx: RunContext, plan: DedupPlan, shard: int) -> ShardPairs:
    return compute(band_shard, ctx, plan, shard)


@task(name="cluster", **_RETRY)
def finalize_task(ctx: RunContext, batches: list[int], previous: Path | None, plan: DedupPlan | None,
                  shards: list[ShardPairs], replaced: list[str]):
    return compute(finalize_run, ctx, batches, previous, plan, shards, replaced)
