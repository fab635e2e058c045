"""The Prefect flow ``curate`` and its batch tasks: the only module importing prefect.

Tasks work on batches of files (a few hundred tasks per run at most) and write
their Parquet parts into the run's staging snapshot; the flow commits the
snapshot at the end.

Where the CPU work runs: the stages are CPU-bound Python, so batches run in
worker *processes*. Prefect's own ``ProcessPoolTaskRunner`` was measured here
at 5-7 s to spawn its workers (each imports Prefect and talks to the API) and
~160 ms of engine overhead per task inside them, more than the work of a
1,000-article batch. So by default the Prefect tasks run in threads, one per
batch in flight, and hand the batch to a plain ``ProcessPoolExecutor`` whose
workers import only ketl's stages: every batch is still a Prefect task run with
its state, timing and retries, and the work uses every core. With another task
runner (Dask, issue 7) the tasks compute where the runner puts them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

# A cold temporary server takes 10-26 s to start here; Prefect's default
# start-up timeout (20 s) is too short. Set before prefect is imported.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import get_run_context  # noqa: E402
from prefect.futures import as_completed  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from .. import __version__  # noqa: E402
from ..run import interrupt, progress  # noqa: E402
from ..settings import Settings, load_settings  # noqa: E402
from ..run.incremental import Seen, add_stale, load_processed, plan, save_processed, stale_files  # noqa: E402
from ..ingest.scan import SourceFile, scan  # noqa: E402
from ..run.batch import (  # noqa: E402
    SITE_LINES, BatchCounts, RunContext, check_resources, drop_replaced, finish_batch, merge_site_lines,
    prepare_batch, resources)
from ..run.user_files import user_files, with_user_gazetteer  # noqa: E402
from ..run.watchdog import exit_with_parent  # noqa: E402
from ..run.dedup import (SHARDS, DedupPlan, ShardPairs, band_shard, finalize_run, register_run,  # noqa: E402
                             stored_clusters)
from ..store import STATE, Store, fault_point, read_table, write_part  # noqa: E402


class UsageError(ValueError):
    """Bad arguments (missing raw folder, ...): the CLI prints one line and exits 2."""


@dataclass
class RunSummary:
    run_id: str
    out: str
    files_seen: int = 0
    files_new: int = 0
    files_skipped: int = 0
    rejected: int = 0
    articles: int = 0
    edits: int = 0
    quotes: int = 0
    clusters: int = 0
    near_duplicates: int = 0
    recurated: int = 0  # articles read again because their stored rows had another config_hash
    band_workers: int = 0  # distinct processes that ran the near-duplicate band tasks
    seconds: float = 0.0
    source_chars: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # Wall-clock seconds of each phase of the run (scan, read, ..., commit), in order.
    phase_seconds: dict[str, float] = field(default_factory=dict)
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    # Rule and gazetteer files loaded besides ketl's own (absolute paths), and notes for the user.
    user_files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    nothing_new: bool = False  # an incremental run that found no new or changed file

    @property
    def status(self) -> str:
        if self.nothing_new:
            return "nothing_new"
        return "partial" if self.rejected else "ok"


_pool: ProcessPoolExecutor | None = None


@contextmanager
def compute_pool(workers: int):
    """Worker processes for the batch work of this run (none when ``workers`` is 1)."""
    global _pool
    if workers <= 1:
        yield
        return
    # spawn, not fork: the flow process runs Prefect's threads and event loops.
    _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_worker_start, initargs=(os.getpid(),))
    off = interrupt.on_interrupt(_stop_pool)
    try:
        yield
    finally:
        off()
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def _worker_start(parent: int) -> None:
    interrupt.ignore_in_worker()
    exit_with_parent(parent)


def _stop_pool(grace: float = 1.0) -> None:
    """On Ctrl-C: end the pool's workers now (SIGTERM, SIGKILL after ``grace``), the
    batches they run are thrown away with the staging snapshot. ``shutdown`` would
    wait for every running batch."""
    pool = _pool
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public handle on them
    for p in procs:
        p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()


def _compute(fn, *args):
    return _pool.submit(fn, *args).result() if _pool is not None else fn(*args)


# Batch tasks are idempotent (they rewrite their own files in the run's staging
# and work folders), so a transient I/O error is retried.
@task(name="prepare-batch", cache_policy=NO_CACHE, task_run_name="prepare-{batch}", retries=2,
      retry_delay_seconds=1)
def prepare_task(ctx: RunContext, batch: int, units: list[SourceFile], recount: list[str]) -> BatchCounts:
    return _compute(prepare_batch, ctx, batch, units, recount)


@task(name="finish-batch", cache_policy=NO_CACHE, task_run_name="finish-{batch}", retries=2,
      retry_delay_seconds=1)
def finish_task(ctx: RunContext, batch: int) -> BatchCounts:
    return _compute(finish_batch, ctx, batch)


@task(name="site-lines", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def site_lines_task(ctx: RunContext, previous: Path | None, batches: list[int]) -> int:
    """Merge this run's per-site line counts into the stored ones (state for later runs)."""
    merged = merge_site_lines(ctx, previous, batches)
    pq.write_table(merged, Path(ctx.staging) / STATE / SITE_LINES, compression="zstd")
    # Workers only need lines that are frequent enough to be judged repeated.
    min_docs = resources(ctx.settings).boilerplate.repeated_min_docs
    active = merged.filter(pc.or_(pc.is_null(merged.column("line_key")),
                                  pc.greater_equal(merged.column("n_docs"), min_docs)))
    pq.write_table(active, ctx.files.site_lines_active())
    return active.num_rows


@task(name="dedup-register", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def register_task(ctx: RunContext, batches: list[int], previous: Path | None) -> DedupPlan:
    return _compute(register_run, ctx, batches, previous)


# The LSH band group-by: one task per group of bands, each on whichever worker
# the task runner picks (a Dask worker with --runner dask).
@task(name="dedup-bands", cache_policy=NO_CACHE, task_run_name="bands-{shard}", retries=2,
      retry_delay_seconds=1)
def band_task(ctx: RunContext, plan: DedupPlan, shard: int) -> ShardPairs:
    return _compute(band_shard, ctx, plan, shard)


@task(name="cluster", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def finalize_task(ctx: RunContext, batches: list[int], previous: Path | None, plan: DedupPlan | None,
                  shards: list[ShardPairs], replaced: list[str]):
    return _compute(finalize_run, ctx, batches, previous, plan, shards, replaced)


def make_batches(units: list[SourceFile], batch_size: int, max_bytes: int = 64 << 20) -> list[list[SourceFile]]:
    """Consecutive files, at most ``batch_size`` of them and about ``max_bytes`` per batch.

    The byte cap keeps a batch of large JSONL files from holding gigabytes in one worker.
    """
    batches: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    size = 0
    for unit in units:
        if current and (len(current) >= batch_size or size + unit.size > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(unit)
        size += unit.size
    if current:
        batches.append(current)
    return batches


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # called outside a flow run (``curate.fn``)
        return str(uuid.uuid4())


def _gather(futures, phase: str) -> list[BatchCounts]:
    results = []
    for fut in as_completed(futures):
        counts = fut.result()
        results.append(counts)
        progress.advance(phase, 1)
    return sorted(results, key=lambda c: c.batch)


@flow(name="curate", description="Curate raw/ into the Parquet dataset in out/ (see the ketl README).",
      task_runner=ThreadPoolTaskRunner(max_workers=2 * (os.cpu_count() or 1)),
      persist_result=False, log_prints=False)
def curate(raw: str | None = None, out: str | None = None, batch_size: int | None = None,
           workers: int | None = None, full: bool = False, config: str | None = None,
           rule_files: list[str] | None = None, gazetteer_files: list[str] | None = None,
           skip: list[str] | None = None, local_pool: bool = True, keep_stale: bool = False) -> dict:
    """Run the pipeline on ``raw`` into ``out``; return the run summary as a dict.

    Settings come from ``config`` (or ./ketl.toml), overridden by the arguments
    given. ``local_pool`` computes batches in a local process pool; a Dask task
    runner turns it off (the Dask workers are the processes). ``keep_stale``
    leaves stored articles curated with other settings as they are.
    """
    settings = load_settings(Path(config) if config else None)
    extra = {}
    if rule_files:
        extra["rule_files"] = (*settings.rule_files, *rule_files)
    if gazetteer_files:
        extra["gazetteer_files"] = (*settings.gazetteer_files, *gazetteer_files)
    if skip:
        extra["skip"] = (*settings.skip, *skip)
    summary = run_pipeline(raw=raw, out=out, batch_size=batch_size, workers=workers, full=full,
                           settings=settings.with_overrides(**extra), local_pool=local_pool,
                           keep_stale=keep_stale)
    _publish_artifacts(summary)
    return summary.__dict__


def _publish_artifacts(s: RunSummary) -> None:
    """A table of counts and a markdown summary on the flow run, for the Prefect UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    rows = [{"count": k, "value": v} for k, v in (
        ("files seen", s.files_seen), ("files new or changed", s.files_new),
        ("files skipped", s.files_skipped), ("rejected", s.rejected), ("articles", s.articles),
        ("edits", s.edits), ("quotes", s.quotes), ("dataset: quote clusters (>1 member)", s.clusters),
        ("near-duplicate articles", s.near_duplicates), ("processes running band tasks", s.band_workers))]
    rows += [{"count": f"edits: {k}", "value": v} for k, v in sorted(s.edits_by_stage.items())]
    rows += [{"count": f"rejects: {k}", "value": v} for k, v in sorted(s.rejects_by_reason.items())]
    create_table_artifact(key="ketl-run-counts", table=rows, description=f"ketl run {s.run_id}")
    slowest = sorted(s.stage_seconds.items(), key=lambda kv: -kv[1])
    create_markdown_artifact(key="ketl-run-summary", description="ketl run summary", markdown="\n".join([
        f"# ketl run `{s.run_id}`", "",
        f"**{s.articles}** articles written to `{s.out}` in {s.seconds:.1f} s "
        f"({s.docs_per_second:.0f} docs/s); {s.files_skipped} unchanged files skipped; "
        f"**{s.rejected}** rejects; {s.edits} edits; {s.quotes} quotes this run; "
        f"{s.clusters} quote clusters of more than one member in the dataset.", "",
        "| stage | CPU seconds |", "|---|---|", *[f"| {k} | {v:.2f} |" for k, v in slowest], "",
        "| phase | wall seconds |", "|---|---|", *[f"| {k} | {v:.2f} |" for k, v in s.phase_seconds.items()],
        "", "Rule and gazetteer files loaded besides ketl's own: "
        + (", ".join(f"`{f}`" for f in s.user_files) or "none"), *[f"\n{n}" for n in s.notes]]))


def run_pipeline(*, raw: str | None, out: str | None, settings: Settings, batch_size: int | None = None,
                 workers: int | None = None, full: bool = False, local_pool: bool = True,
                 keep_stale: bool = False) -> RunSummary:
    t0 = time.perf_counter()
    settings = settings.with_overrides(raw=raw, out=out, batch_size=batch_size, workers=workers)
    settings, notes = with_user_gazetteer(settings)
    raw_path = Path(settings.raw)
    if not raw_path.is_dir():
        raise UsageError(f"raw folder {raw_path} does not exist or is not a folder")
    if settings.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_resources(settings)
    run_id = _run_id()
    with compute_pool((settings.workers or os.cpu_count() or 1) if local_pool else 1):
        summary = _run(settings, raw_path, run_id, full, t0, keep_stale)
    summary.notes = notes + summary.notes
    return summary


def _run(settings: Settings, raw_path: Path, run_id: str, full: bool, t0: float,
         keep_stale: bool = False) -> RunSummary:
    summary = RunSummary(run_id=run_id, out=str(settings.out), user_files=user_files(settings))
    started = datetime.now(timezone.utc)
    lap = _Laps(summary.phase_seconds)
    with Store(Path(settings.out)) as store:
        if not full:
            store.verify()  # damaged state stops the run here, before it is read or carried over
        previous_snapshot = None if full or store.current is None else store.current.resolve()
        processed = load_processed(previous_snapshot / STATE if previous_snapshot else None)
        files = scan(raw_path, settings.follow_external_links)
        the_plan = plan(raw_path, files, processed)
        stale = _plan_stale(summary, the_plan, files, processed, previous_snapshot, settings.config_hash(),
                            keep_stale)
        summary.files_seen = len(files)
        summary.files_skipped = the_plan.skipped
        summary.files_new = len(the_plan.to_read)
        staging = store.begin(run_id, full)
        ctx = RunContext(run_id=run_id, raw=str(raw_path), staging=str(staging), settings=settings,
                         config_hash=settings.config_hash(), started_at=started)
        batches = make_batches(the_plan.to_read, settings.batch_size)
        file_rows = list(the_plan.restat)
        lap("scan")
        if batches:
            progress.start("read", len(batches))
            prepared = _gather(prepare_task.map(ctx=unmapped(ctx), batch=list(range(len(batches))),
                                                units=batches, recount=_recounts(batches, processed)), "read")
            for c in prepared:
                file_rows.extend(c.files)
                _add_seconds(summary, c)
            replaced = _replaced(summary, file_rows, processed, stale)
            lap("read")
            site_lines_task(ctx, previous_snapshot, [c.batch for c in prepared])
            lap("site lines")
            progress.start("curate", len(batches))
            finished = _gather(finish_task.map(ctx=unmapped(ctx), batch=[c.batch for c in prepared]),
                               "curate")
            done = [c.batch for c in finished]
            lap("clean")
            drop_replaced(ctx, replaced, {processed[p].run_id for p in replaced})  # quotes: in finalize
            lap("replace stored rows")
            dedup_plan, shards = None, []
            if ctx.runs("dedup"):
                dedup_plan = register_task(ctx, done, previous_snapshot)
                lap("dedup register")
                progress.start("dedup", SHARDS)
                shards = _gather(band_task.map(ctx=unmapped(ctx), plan=unmapped(dedup_plan),
                                               shard=list(range(SHARDS))), "dedup")
                summary.band_workers = len({s.worker for s in shards})
                summary.stage_seconds["dedup bands"] = sum(s.seconds for s in shards)
                lap("dedup bands")
            final = finalize_task(ctx, done, previous_snapshot, dedup_plan, shards, replaced)
            lap("cluster + write")
            summary.quotes = final.quotes
            summary.clusters = final.clusters
            summary.near_duplicates = final.near_duplicates
            for c in finished:
                _add_seconds(summary, c)
                summary.articles += c.articles
                summary.edits += c.edits
                summary.rejected += c.rejects
                summary.source_chars += c.chars
                for k, v in c.edits_by_stage.items():
                    summary.edits_by_stage[k] = summary.edits_by_stage.get(k, 0) + v
                for k, v in c.rejects_by_reason.items():
                    summary.rejects_by_reason[k] = summary.rejects_by_reason.get(k, 0) + v
        elif previous_snapshot is not None:
            summary.clusters = stored_clusters(previous_snapshot)  # a dataset figure, as after a run that reads
        fault_point("after_batches")
        save_processed(staging / STATE, processed, run_id, file_rows)
        summary.seconds = time.perf_counter() - t0
        # Every run is a row of the history, one that found nothing new too: its
        # snapshot holds the same data (hard links) plus that row.
        summary.nothing_new = not batches and not full
        write_part(staging, "runs", _runs_row(summary, ctx, full), ctx.files.runs_part_name(), ctx.run_date)
        store.commit(staging)
        _discard(ctx.work)
        lap("commit")
        summary.seconds = time.perf_counter() - t0
    return summary


def _plan_stale(summary: RunSummary, the_plan, files, processed: dict[str, Seen], previous: Path | None,
                config_hash: str, keep_stale: bool) -> set[str]:
    """Stored articles curated under another config_hash: put their files on the
    to-read list (unless ``keep_stale``) and say so in the summary's notes."""
    if previous is None or not processed:
        return set()
    runs = read_table(previous, "runs")
    hashes = dict(zip(runs.column("run_id").to_pylist(), runs.column("config_hash").to_pylist()))
    stale = stale_files(processed, hashes, config_hash, {f.path for f in files})
    if stale.articles and keep_stale:
        summary.notes.append(f"{stale.articles} articles were curated with other settings; "
                             "kept as they are (--keep-stale)")
    elif stale.articles:
        summary.notes.append(f"{stale.articles} articles were curated with other settings; "
                             "re-curating them (--keep-stale to keep them)")
        add_stale(the_plan, files, stale.paths)
    if stale.gone:
        summary.notes.append(f"{stale.gone} articles curated with other settings stay as they are: "
                             "their files are no longer in raw/")
    return set() if keep_stale else stale.paths


def _recounts(batches: list[list[SourceFile]], processed: dict[str, Seen]) -> list[list[str]]:
    """Per batch, the files read before whose lines the stored per-site counts hold."""
    return [[f.path for f in b if (s := processed.get(f.path)) is not None and s.sha256 and s.n_articles > 0]
            for b in batches]


def _replaced(summary: RunSummary, file_rows, processed: dict[str, Seen], stale: set[str]) -> list[str]:
    """Stored files this run read again, whose stored rows its own replace; counts
    the re-curated articles (stale files) into ``summary``.

    A file whose bytes could not be read now (sha256 empty: unreadable, a
    broken link) keeps its stored rows, as a file gone from raw/ does.
    """
    summary.recurated = sum(n for p, _sha, _s, _m, n in file_rows if p in stale and n > 0)
    if summary.recurated:
        summary.notes.append(f"re-curated {summary.recurated} articles (settings changed)")
    return sorted({p for p, sha, _s, _m, n in file_rows if sha and n >= 0 and p in processed})


class _Laps:
    """Records the wall-clock time since the previous lap under a phase name."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.into[phase] = self.into.get(phase, 0.0) + now - self.t
        self.t = now


def _add_seconds(summary: RunSummary, counts: BatchCounts) -> None:
    for k, v in counts.stage_seconds.items():
        summary.stage_seconds[k] = summary.stage_seconds.get(k, 0.0) + v


def _discard(staging: Path) -> None:
    import shutil

    shutil.rmtree(staging, ignore_errors=True)


def _runs_row(s: RunSummary, ctx: RunContext, full: bool) -> pa.Table:
    return pa.table({
        "run_id": [s.run_id],
        "started_at": pa.array([ctx.started_at], pa.timestamp("us", tz="UTC")),
        "finished_at": pa.array([datetime.now(timezone.utc)], pa.timestamp("us", tz="UTC")),
        "pipeline_version": [__version__],
        "config_hash": [ctx.config_hash],
        "raw_root": [ctx.raw],
        "full": [full],
        "files_seen": [s.files_seen],
        "files_new": [s.files_new],
        "files_skipped": [s.files_skipped],
        "rejected": [s.rejected],
        "articles": [s.articles],
        "edits": [s.edits],
        "quotes": [s.quotes],
        "recurated": [s.recurated],
        "seconds": [s.seconds],
        "status": [s.status],
        "user_files": pa.array([s.user_files], pa.list_(pa.string())),
    })


def _existing(path: str | None) -> Path | None:
    """``path`` or its nearest folder that exists here (the run creates the rest)."""
    if not path:
        return None
    p = Path(path)
    while not p.is_dir() and p != p.parent:
        p = p.parent
    return p


@contextmanager
def shared_api():
    """Make sure PREFECT_API_URL names a server every process can reach.

    Without it each Dask worker would start its own temporary Prefect server
    (seconds each, and the task runs scattered over throwaway databases), so
    start one temporary server here, before the cluster's workers spawn, and
    point everyone at it.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if configured:
        exported = "PREFECT_API_URL" not in os.environ
        os.environ["PREFECT_API_URL"] = configured
        try:
            yield configured
        finally:
            if exported:
                os.environ.pop("PREFECT_API_URL", None)
        return

    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)


def curate_with(workers: int | None = None, runner: str = "local", dask_address: str | None = None,
                **kwargs) -> dict:
    """Run ``curate`` with a task runner: ``local`` (threads + a process pool) or ``dask``.

    ``dask`` uses prefect-dask's DaskTaskRunner against ``dask_address`` or, without
    one, a local cluster of ``workers`` single-threaded worker processes.
    """
    n = workers or os.cpu_count() or 1
    if runner == "local":
        return curate.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2 * n))(workers=workers, **kwargs)
    if runner != "dask":
        raise UsageError(f"unknown runner {runner!r}: use local or dask")
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise UsageError("--runner dask needs prefect-dask: pip install 'ketl[dask]'") from None
    for key in ("raw", "out"):  # workers have their own working folder: send absolute paths
        if kwargs.get(key):
            kwargs[key] = str(Path(kwargs[key]).resolve())
    if dask_address:
        from .dask import ClusterError, check_cluster
        from prefect.settings import PREFECT_API_URL

        folders = tuple(str(f) for f in (kwargs.get("raw"), _existing(kwargs.get("out"))) if f)
        try:
            check_cluster(dask_address, api_configured=bool(os.environ.get("PREFECT_API_URL")
                                                            or PREFECT_API_URL.value()), folders=folders)
        except ClusterError as exc:
            raise UsageError(str(exc)) from None
        task_runner = DaskTaskRunner(address=dask_address)
    else:
        task_runner = DaskTaskRunner(cluster_kwargs={"n_workers": n, "threads_per_worker": 1,
                                                     "processes": True, "dashboard_address": None})
    import dask

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers: numpy's large
    # temporaries then go back to the OS and fault in again, and MinHash ran
    # 3.2x slower (measured). Workers of the local cluster keep glibc's default.
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), shared_api():
        return curate.with_options(task_runner=task_runner)(workers=workers, local_pool=False, **kwargs)
