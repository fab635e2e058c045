"""The Prefect flow ``curate``: the run's steps in order, as Prefect tasks (:mod:`ketl.flows.tasks`).

Tasks work on batches of files (a few hundred tasks per run at most) and write
their Parquet parts into the run's staging snapshot; the flow commits the
snapshot at the end.

Where the CPU work runs: the stages are CPU-bound Python, so batches run in
worker *processes*. Prefect's own ``ProcessPoolTaskRunner`` was measured here
at 5-7 s to spawn its workers (each imports Prefect and talks to the API) and
~160 ms of engine overhead per task inside them, more than the work of a
1,000-article batch. So by default the Prefect tasks run in threads, one per
batch in flight, and hand the batch to a plain ``ProcessPoolExecutor`` whose
workers import only ketl's stages (:mod:`ketl.flows.pool`): every batch is
still a Prefect task run with its state, timing and retries, and the work uses
every core. With another task runner (Dask, issue 7) the tasks compute where
the runner puts them.

Prefect reads its settings when imported: the entry points set ketl's
defaults first (:mod:`ketl.flows.prefect_env`), not this module.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Collection, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
from prefect import flow, unmapped
from prefect.context import get_run_context
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from ..ingest.scan import SourceFile, scan
from ..run import progress, timeline
from ..run.batch import BatchCounts, RunContext, check_settings, drop_replaced, write_processed
from ..run.dedup import SHARDS, DedupPlan, ShardPairs, stored_clusters
from ..run.incremental import Plan, add_stale, plan, stale_files
from ..run.processed import Processed, file_rows_table, load_processed
from ..run.summary import Laps, RunSummary, runs_row
from ..run.release import lean_arrow_pool
from ..run.user_files import user_files, with_user_gazetteer
from ..settings import Settings, load_settings
from ..store import STATE, Store, fault_point, read_table, write_part
from .pool import for_run
from .prefect_env import startup_timeout
from .tasks import (Sealed, band_task, finalize_task, finish_task, prepare_task, processed_task, register_task,
                    site_lines_task)

__all__ = ["RunSummary", "UsageError", "curate", "curate_with", "make_batches", "run_pipeline"]


class UsageError(ValueError):
    """Bad arguments (missing raw folder, ...): the CLI prints one line and exits 2."""


# The smallest batch the tail of a run is cut into (see make_batches): about 0.2 s of
# a worker's time, a few times a batch's fixed cost (its files, the site counts it loads).
TAIL_BATCH = 100


def make_batches(units: list[SourceFile], batch_size: int, max_bytes: int = 64 << 20,
                 workers: int = 1) -> list[list[SourceFile]]:
    """Consecutive files, at most ``batch_size`` of them and about ``max_bytes`` per batch.

    The byte cap keeps a batch of large JSONL files from holding gigabytes in one worker.
    With ``workers`` > 1 the batches shrink towards the end of the run (each at most
    the files left over ``workers``, at least ``TAIL_BATCH``): the pool hands batches out
    in order, so the last ones, run while the other workers have nothing left, are
    short and every worker ends each phase at about the same time. With 1,000-file
    batches the last batch ran alone for a whole batch's time while a core idled, in
    each of the two batch phases. The files stay in order, so the items are numbered
    as before. A run of at most ``batch_size`` files stays one batch. (The cut no
    longer changes output: new articles are first seen at the run's start, not at
    their batch's clock, by which quote_clusters and article_clusters order
    undated articles; with a batch clock, splitting the 181 AEB pages in two
    changed which outlet came first in 9 of their 43 quote clusters.)
    """
    batches: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    size = 0
    cap = batch_size
    for i, unit in enumerate(units):
        if current and (len(current) >= cap or size + unit.size > max_bytes):
            batches.append(current)
            current, size = [], 0
        if not current:
            cap = _batch_cap(len(units) - i, batch_size, workers if len(units) > batch_size else 1)
        current.append(unit)
        size += unit.size
    if current:
        batches.append(current)
    return batches


def _batch_cap(left: int, batch_size: int, workers: int) -> int:
    """Files in the next batch when ``left`` files remain (guided scheduling)."""
    if workers <= 1:
        return batch_size
    return min(batch_size, max(TAIL_BATCH, -(-left // workers)))


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except Exception:  # called outside a flow run (``curate.fn``)
        return str(uuid.uuid4())


def _gather(futures, phase: str, counted: bool) -> list:
    """The tasks' results (each a list, one item per batch or shard) in batch order.

    ``counted``: the tasks moved the progress bar batch by batch (a local pool,
    :func:`ketl.flows.pool.compute_each`); else each task's batches count when it is done.
    """
    results = []
    for fut in as_completed(futures):
        done = fut.result()
        if not counted:
            if not results:
                timeline.mark(f"first batch done ({phase})")
            progress.advance(phase, len(done))
        results.extend(done)
    return sorted(results, key=lambda c: c.batch)


def _split(items: list, tasks: int) -> list[list]:
    """``items`` as ``tasks`` runs of consecutive items (fewer when there are fewer items).

    ``tasks`` 0: one item per task (a Dask runner: each task computes where it runs)."""
    if tasks <= 0:
        return [[x] for x in items]
    per = -(-len(items) // tasks) if items else 1
    return [items[i:i + per] for i in range(0, len(items), per)]


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
    settings = load_settings(Path(config) if config else None).with_cli(
        rule_files=rule_files, gazetteer_files=gazetteer_files, skip=skip)
    summary = run_pipeline(raw=raw, out=out, batch_size=batch_size, workers=workers, full=full,
                           settings=settings, local_pool=local_pool, keep_stale=keep_stale)
    _publish_artifacts(summary)
    return summary.to_dict()  # plain values for Prefect's result display; curate_with types it again


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
    timeline.mark("flow started")  # Prefect is up (its temporary server too)
    settings = settings.with_overrides(raw=raw, out=out, batch_size=batch_size, workers=workers)
    settings, notes = with_user_gazetteer(settings)
    raw_path = Path(settings.raw)
    if not raw_path.is_dir():
        raise UsageError(f"raw folder {raw_path} does not exist or is not a folder")
    if settings.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_settings(settings)
    run_id = _run_id()
    workers = (settings.workers or os.cpu_count() or 1) if local_pool else 1
    with for_run(workers):
        # With a local pool a task run stands for all of a step's batches (6 task runs
        # for 20,000 articles, were 51 and then 8); with Dask, one per batch.
        summary = _run(settings, raw_path, run_id, full, t0, keep_stale, workers if local_pool else 0)
    summary.notes = notes + summary.notes
    return summary


@dataclass
class _Scanned:
    """What the run found before reading anything: the stored state and the plan."""

    previous: Path | None  # the committed snapshot this run builds on (None: first or --full)
    processed: Processed  # in columns: a dict of Seen took 143 MiB at 100,000 stored files
    plan: Plan
    stale: set[str]  # stored files curated with other settings, to read again


def _run(settings: Settings, raw_path: Path, run_id: str, full: bool, t0: float,
         keep_stale: bool = False, tasks: int = 0) -> RunSummary:
    summary = RunSummary(run_id=run_id, out=str(settings.out), user_files=user_files(settings))
    lean_arrow_pool()  # before the stored state is read
    started = datetime.now(timezone.utc)
    lap = Laps(summary.phase_seconds)
    config_hash = settings.config_hash()  # once: it hashes every rule and gazetteer file
    with Store(Path(settings.out)) as store:
        scanned = _scan(store, summary, settings, raw_path, full, keep_stale, config_hash)
        staging = store.begin(run_id, full)
        ctx = RunContext(run_id=run_id, raw=str(raw_path), staging=str(staging), settings=settings,
                         config_hash=config_hash, started_at=started)
        batches = make_batches(scanned.plan.to_read, settings.batch_size, workers=max(tasks, 1))
        scanned.plan.to_read = []  # the batches hold the files now, and _curate_batches lets them go
        nothing_new = not batches and not full
        read: list[int] = []  # the batches read, in the order their file rows go into the state
        lap("scan")
        if batches:
            read = _curate_batches(ctx, summary, lap, batches, scanned, tasks)
        elif scanned.previous is not None:
            summary.clusters = stored_clusters(scanned.previous)  # a dataset figure, as after a run that reads
        fault_point("after_batches")
        _commit(store, ctx, summary, scanned, read, full, t0, nothing_new=nothing_new)
        lap("commit")
        summary.seconds = time.perf_counter() - t0
    timeline.mark("committed")
    return summary


def _scan(store: Store, summary: RunSummary, settings: Settings, raw_path: Path, full: bool,
          keep_stale: bool, config_hash: str) -> _Scanned:
    """Read the stored state and plan which files to read."""
    if not full:
        store.verify()  # damaged state stops the run here, before it is read or carried over
    previous = None if full or store.current is None else store.current.resolve()
    processed = load_processed(previous / STATE if previous else None)
    files = scan(raw_path, settings.follow_external_links)
    the_plan = plan(raw_path, files, processed)
    stale = _plan_stale(summary, the_plan, files, processed, previous, config_hash, keep_stale)
    summary.files_seen = len(files)
    summary.files_skipped = the_plan.skipped
    summary.files_new = len(the_plan.to_read)
    return _Scanned(previous, processed, the_plan, stale)


def _curate_batches(ctx: RunContext, summary: RunSummary, lap: Laps, batches: list[list[SourceFile]],
                    scanned: _Scanned, tasks: int) -> list[int]:
    """Steps 1-3 over the batches; returns the batches read, in order. ``tasks``: the
    local pool's workers (0: a Dask runner, one task run per batch)."""
    previous, processed = scanned.previous, scanned.processed
    progress.start("read", len(batches))
    # With a local pool one task run per step (its batches reach the pool in order,
    # so the short tail batches of make_batches run last); with Dask (tasks 0) one
    # task per batch, each computed where it runs.
    step_tasks = min(tasks, 1)
    groups = _split(list(range(len(batches))), step_tasks)
    known = _known(batches, processed)
    recounts = _recounts(batches, processed, known)
    prepared = _gather(prepare_task.map(ctx=unmapped(ctx), batches=groups,
                                        units=[Sealed([batches[b] for b in g]) for g in groups],
                                        recount=[Sealed([recounts[b] for b in g]) for g in groups]),
                       "read", tasks > 0)
    for c in prepared:
        summary.add_seconds(c)
    # The files are read: a SourceFile each (about 230 bytes, 23 MB at 100,000 files) is
    # not needed again, and the later steps reuse the memory instead of adding to it.
    batches.clear()
    replaced = _replaced(summary, _stored_before(ctx, [c.batch for c in prepared], known), known,
                         scanned.stale)
    lap("read")
    site_lines_task(ctx, previous, [c.batch for c in prepared])
    lap("site lines")
    progress.start("curate", len(prepared))  # (batches is cleared above)
    finished = _gather(finish_task.map(ctx=unmapped(ctx), batches=_split([c.batch for c in prepared], step_tasks)),
                       "curate", tasks > 0)
    done = [c.batch for c in finished]
    lap("clean")
    drop_replaced(ctx, replaced, set(processed.run_ids(np.array([known[p] for p in replaced], dtype=np.int64))))
    lap("replace stored rows")
    dedup_plan, shards = _dedup_bands(ctx, summary, lap, done, previous, tasks) if ctx.runs("dedup") else (None, [])
    final = finalize_task(ctx, done, previous, dedup_plan, shards, replaced)
    lap("cluster + write")
    summary.quotes = final.quotes
    summary.clusters = final.clusters
    summary.near_duplicates = final.near_duplicates
    for c in finished:
        summary.add_finished(c)
    return [c.batch for c in prepared]


def _dedup_bands(ctx: RunContext, summary: RunSummary, lap: Laps, done: list[int],
                 previous: Path | None, tasks: int) -> tuple[DedupPlan, list[ShardPairs]]:
    """Register the run's sketches, then the band tasks (one per group of bands; with a
    local pool one task for them all, the pool spreading the groups)."""
    dedup_plan = register_task(ctx, done, previous)
    lap("dedup register")
    progress.start("dedup", SHARDS)
    shards = _gather(band_task.map(ctx=unmapped(ctx), plan=unmapped(dedup_plan),
                                   shards=_split(list(range(SHARDS)), min(tasks, 1))), "dedup", tasks > 0)
    summary.band_workers = len({s.worker for s in shards})
    summary.stage_seconds["dedup bands"] = sum(s.seconds for s in shards)
    lap("dedup bands")
    return dedup_plan, shards


def _commit(store: Store, ctx: RunContext, summary: RunSummary, scanned: _Scanned, read: list[int],
            full: bool, t0: float, nothing_new: bool) -> None:
    """The processed-files state and the run's history row, then the atomic commit."""
    staging = Path(ctx.staging)
    restat = file_rows_table(scanned.plan.restat)
    if read:  # in a pool worker, from the batches' files: a row per file read
        processed_task(ctx, scanned.previous, Sealed(restat), read)
    elif restat.num_rows or full or not scanned.processed:
        write_processed(ctx, scanned.previous, restat, [])
    # else the state is the stored one unchanged: the commit links it over (Store._carry_over)
    summary.seconds = time.perf_counter() - t0
    # Every run is a row of the history, one that found nothing new too: its
    # snapshot holds the same data (hard links) plus that row.
    summary.nothing_new = nothing_new
    write_part(staging, "runs", runs_row(summary, ctx, full), ctx.files.runs_part_name(), ctx.run_date)
    store.commit(staging)
    shutil.rmtree(ctx.work, ignore_errors=True)


def _plan_stale(summary: RunSummary, the_plan, files, processed: Processed, previous: Path | None,
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


def _known(batches: list[list[SourceFile]], processed: Processed) -> dict[str, int]:
    """The files to read that the stored state holds, with their rows (one lookup pass;
    none in a first run)."""
    paths = [f.path for b in batches for f in b]
    return {p: r for p, r in zip(paths, processed.rows_of(paths).tolist()) if r >= 0}


def _recounts(batches: list[list[SourceFile]], processed: Processed, known: dict[str, int]) -> list[list[str]]:
    """Per batch, the files read before whose lines the stored per-site counts hold."""
    counted = {p for p, r in known.items() if not processed.unread[r] and processed.n_articles[r] > 0}
    return [[f.path for f in b if f.path in counted] for b in batches]


def _stored_before(ctx: RunContext, batches: list[int], known: Mapping[str, int]) -> pa.Table:
    """The file rows of ``batches`` whose file the stored state holds (``known``; none in a
    first run), read back from the work folder: the flow's process keeps no row per file read."""
    import pyarrow.parquet as pq

    kept = [file_rows_table([])]
    for b in batches if known else ():
        rows = pq.read_table(ctx.files.file_rows(b))
        kept.append(rows.filter(pa.array([p in known for p in rows.column("source_path").to_pylist()],
                                         pa.bool_())))
    return pa.concat_tables(kept)


def _replaced(summary: RunSummary, file_rows: pa.Table, stored: Collection[str], stale: set[str]) -> list[str]:
    """Stored files (``stored``: paths the stored state holds) this run read again, whose
    stored rows its own replace; counts the re-curated articles (stale files) into ``summary``.

    A file whose bytes could not be read now (sha256 empty: unreadable, a
    broken link) keeps its stored rows, as a file gone from raw/ does.
    """
    import pyarrow.compute as pc

    if not stored:  # a first run: nothing stored to replace (and no hash table of paths built)
        return []
    paths, n = file_rows.column("source_path"), file_rows.column("n_articles")
    if stale:
        recurated = pc.and_(pc.is_in(paths, value_set=pa.array(sorted(stale), pa.string())), pc.greater(n, 0))
        summary.recurated = pc.sum(n.filter(recurated)).as_py() or 0
    if summary.recurated:
        summary.notes.append(f"re-curated {summary.recurated} articles (settings changed)")
    read = pc.and_(pc.not_equal(file_rows.column("source_sha256"), ""), pc.greater_equal(n, 0))
    again = paths.filter(read).to_pylist()
    return sorted({p for p in again if p in stored})


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
    server.start(timeout=startup_timeout())
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)


def curate_with(workers: int | None = None, runner: str = "local", dask_address: str | None = None,
                **kwargs) -> RunSummary:
    """Run ``curate`` with a task runner: ``local`` (threads + a process pool) or ``dask``;
    return its summary.

    ``dask`` uses prefect-dask's DaskTaskRunner against ``dask_address`` or, without
    one, a local cluster of ``workers`` single-threaded worker processes.
    """
    n = workers or os.cpu_count() or 1
    if runner == "local":
        return RunSummary.from_dict(
            curate.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2 * n))(workers=workers, **kwargs))
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
        # dashboard_address=None still binds Dask's default 8787 (a warning when anything
        # else holds it); ":0" takes a free port.
        task_runner = DaskTaskRunner(cluster_kwargs={"n_workers": n, "threads_per_worker": 1,
                                                     "processes": True, "dashboard_address": ":0"})
    import dask

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers: numpy's large
    # temporaries then go back to the OS and fault in again, and MinHash ran
    # 3.2x slower (measured). Workers of the local cluster keep glibc's default.
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), shared_api():
        return RunSummary.from_dict(
            curate.with_options(task_runner=task_runner)(workers=workers, local_pool=False, **kwargs))
