"""The batch steps the flow runs: plain functions over batches, no Prefect.

A run has three steps, each over batches of files (one Prefect task per batch):

1. :func:`prepare_batch` reads and decodes the files, repairs the text and
   counts each site's lines (site headers and footers are lines repeated
   across a site's articles, so they can only be judged once every batch of
   the run has been counted);
2. :func:`finish_batch` strips boilerplate, resolves entities, extracts quotes,
   computes MinHash signatures and writes the batch's Parquet parts;
3. the near-duplicate step (:mod:`ketl.pipeline_dedup`): register the run's
   sketches, update the band shards (one task per group of bands), then
   cluster the run's quotes and articles and write the tables that need the
   whole run.

Documents travel between steps as pickles in the run's work folder (narrowed:
:mod:`ketl.run.handoff`), so task results stay small and memory does not grow
with the size of the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..stages import STAGES, stages_of_step
from ..stages.boilerplate.stage import BoilerplateSettings
from ..stages.boilerplate.rules import CompiledRules, load_rules
from ..stages.boilerplate.site_stats import SiteLineStats
from ..stages.boilerplate.carried import carried_line_keys, pack_page_keys, site_and_page_keys
from ..settings import ConfigError, Settings
from ..dedup.index import QUOTE_SETTINGS, DedupSettings, sketch_table
from ..document import Document
from ..stages.entities.stage import EntitySettings, entities_table, suggestions_table
from ..stages.entities.gazetteer import Gazetteer
from ..ingest.read import Reject, read_units
from ..ingest.scan import SourceFile
from ..stages.repair.stage import RepairSettings, replacement_char_count
from ..ingest.dates import article_date
from ..schemas import EDITS, items_table
from ..store import STATE, PartWriters, remove_rows, write_part
from .handoff import pack, unpack
from .processed import file_rows_table, read_processed, save_processed
from .work import MERGED_TABLES, REMOVED_DOCS, SITE_LINES, WorkFolder, run_of_part  # noqa: F401 - names kept here too

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class RunContext:
    """What every batch step needs to know about its run (picklable)."""

    run_id: str
    raw: str
    staging: str
    settings: Settings
    config_hash: str
    started_at: datetime
    pipeline_version: str = __version__

    @property
    def work(self) -> Path:
        return self.files.path

    @property
    def files(self) -> WorkFolder:
        """The names of every file the run's steps pass each other (and of its parts)."""
        return WorkFolder.beside(Path(self.staging), self.run_id)

    def runs(self, stage: str) -> bool:
        """Is ``stage`` on in this run (not listed in the ``skip`` setting)?"""
        return stage not in self.settings.skip

    @property
    def run_date(self) -> str:
        return self.started_at.strftime("%Y-%m-%d")


@dataclass
class BatchCounts:
    """What a batch step reports back to the flow (small: no documents)."""

    batch: int
    articles: int = 0
    rejects: int = 0
    edits: int = 0
    quotes: int = 0
    chars: int = 0
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    """Compiled once per process and run: each stage's settings, rules, gazetteer
    (what a stage's ``run`` receives: :class:`ketl.stages.StageResources`)."""

    settings: Mapping[str, Any]  # by stage name: RepairSettings, BoilerplateSettings, ...
    rules: CompiledRules
    gazetteer: Gazetteer
    site_stats: SiteLineStats | None = None  # set per batch by finish_batch

    @property
    def repair(self) -> RepairSettings:
        return self.settings["repair"]

    @property
    def boilerplate(self) -> BoilerplateSettings:
        return self.settings["boilerplate"]

    @property
    def entities(self) -> EntitySettings:
        return self.settings["entities"]


class ResourceCache:
    """The compiled resources of the last settings asked for (by config_hash).

    Compiling (rules, gazetteer) takes seconds and a batch step gets only the
    settings, so each process that computes batches keeps one: a pool worker
    or Dask worker compiles for its first batch of a run and reuses the result
    for the others. One entry: a process serves one run at a time, and a
    long-lived worker must not hold the gazetteers of every run it served.
    Not ``lru_cache``: Settings is not hashable (its per-stage tables are dicts).
    """

    def __init__(self) -> None:
        self._key: str | None = None
        self._value: Resources | None = None

    def get(self, settings: Settings, config_hash: str | None = None) -> Resources:
        # A run's steps pass the hash their RunContext holds: computing it hashes
        # every rule and gazetteer file again.
        key = config_hash or settings.config_hash()
        if self._value is None or key != self._key:
            self._key, self._value = None, None  # a failed compile must not leave the old entry
            self._value, self._key = _compile(settings), key
        return self._value

    def clear(self) -> None:
        self._key, self._value = None, None


# This process's cache (one per process by construction: spawned pool workers
# and Dask workers import this module anew). Batch steps reach it through
# resources(); a test or a long-lived worker may clear() it.
PROCESS_RESOURCES = ResourceCache()


def resources(settings: Settings, config_hash: str | None = None) -> Resources:
    """The run's compiled resources, built on first use in each worker process."""
    return PROCESS_RESOURCES.get(settings, config_hash)


def check_resources(settings: Settings) -> Resources:
    """Compile the run's resources once up front, turning bad settings into a ConfigError."""
    settings.validate()
    try:
        return resources(settings)
    except ValueError as exc:  # a bad rule or gazetteer file: the message names it
        raise ConfigError(str(exc)) from None


def check_settings(settings: Settings) -> None:
    """:func:`check_resources` for the process that only starts a run (the CLI, the flow):
    the settings are validated, and the rules and gazetteers compiled only when the
    user's files are among them. ketl's own files are tested with ketl; compiling
    them took the flow process 1.5-4 CPU s (the boilerplate rules' patterns) that the
    pool's workers spend again, each for itself, while its cores are theirs."""
    settings.validate()
    if settings.stage("boilerplate").rule_files or settings.stage("entities").gazetteers:
        check_resources(settings)


def _compile(settings: Settings) -> Resources:
    typed = {s.name: settings.stage(s.name) for s in STAGES}
    bp, ent = typed["boilerplate"], typed["entities"]
    return Resources(
        settings=typed,
        rules=load_rules(bp.rule_files),
        gazetteer=Gazetteer.load(ent.gazetteers, include_default=ent.include_default),
    )


@lru_cache(maxsize=2)
def _site_stats(path: str, mtime_ns: int, settings: BoilerplateSettings) -> SiteLineStats:
    return SiteLineStats.from_arrow(pq.read_table(path), settings.repetition_settings())


def _run_stages(ctx: RunContext, step: str, res: Resources, docs: list[Document], rejects: list[Reject],
                timed: "_Timer") -> list[Document]:
    """The registry's stages of ``step`` that the run does not skip, in order, timed."""
    for stage in stages_of_step(step):
        if ctx.runs(stage.name):
            run = stage.run
            docs = timed(stage.name, lambda: _guarded(lambda d: run(d, res), docs, rejects, stage.name))
    return docs


def _guarded(stage: Callable[[list[Document]], Iterable[Document]], docs: list[Document],
             rejects: list[Reject], name: str) -> list[Document]:
    """Run ``stage`` on the whole batch; when that raises, on each document alone,
    so one failing article becomes a reject, not a lost batch.

    Whole batches let a stage do its batch-level work (repair's language walk
    over a chunk of texts) in a run too: one document per call paid the per-call
    cost for every article. Stages change their documents in place, so a batch
    that fails halfway leaves some changed, one half-changed and the rest not:
    each is put back as it was before the stage (:func:`_snapshot`) and the
    stage runs again one document at a time, which gives what it would have
    given had it always run so (tests/test_batch_fallback.py).
    """
    if len(docs) > 1:
        saved = [_snapshot(d) for d in docs]
        try:
            return list(stage(docs))
        except Exception:  # noqa: BLE001 - which article failed is found one at a time below
            for doc, state in zip(docs, saved):
                _restore(doc, state)
    return _one_at_a_time(stage, docs, rejects, name)


def _one_at_a_time(stage: Callable[[list[Document]], Iterable[Document]], docs: list[Document],
                   rejects: list[Reject], name: str) -> list[Document]:
    kept: list[Document] = []
    for doc in docs:
        try:
            kept.extend(stage([doc]))
        except Exception as exc:  # a bug in a stage must not lose the other articles
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            rejects.append(Reject(doc.source_path, doc.source_sha256, "stage_error", f"{name}: {tb}"))
    return kept


# What a stage may change in a Document: its text and position map (replaced, never
# changed in place: apply_changes), and the lists and meta it adds to. Shallow
# copies: their items (Edit, Quote, EntityMention, Suggestion, the meta strings)
# are frozen or immutable. The identity and source are the stage's input, and the
# source's line starts a cache of it. About 1 microsecond per document and stage.
_STAGE_FIELDS = ("text", "_segments", "edits", "meta", "quotes", "entities", "suggestions")


def _snapshot(doc: Document) -> tuple:
    return (doc.text, doc._segments, doc.edits[:], doc.meta.copy(), doc.quotes[:],  # noqa: SLF001
            doc.entities[:], doc.suggestions[:])


def _restore(doc: Document, state: tuple) -> None:
    (doc.text, doc._segments, doc.edits, doc.meta, doc.quotes,  # noqa: SLF001
     doc.entities, doc.suggestions) = state


class _Timer:
    """CPU seconds of each stage: the time of the thread running the batch
    (a worker's, or a task thread's when there is no pool), so a busy machine
    or Prefect's own threads do not count as the stage's work."""

    def __init__(self, into: dict[str, float]):
        self.into = into

    def __call__(self, name: str, fn: Callable[[], object]) -> object:
        t = time.thread_time()
        try:
            return fn()
        finally:
            self.into[name] = self.into.get(name, 0.0) + time.thread_time() - t


def prepare_batch(ctx: RunContext, batch: int, units: list[SourceFile],
                  recount: Iterable[str] = ()) -> BatchCounts:
    """Step 1: read, decode and repair; count the batch's lines per site.

    ``recount`` names files whose lines the stored per-site counts already
    hold (files read again): their counts are also written apart, for
    :func:`merge_site_lines` to take back out, so a re-read never counts a
    document twice (a line seen twice as often would be cut as boilerplate).
    """
    counts = BatchCounts(batch=batch)
    timed = _Timer(counts.stage_seconds)
    res = resources(ctx.settings, ctx.config_hash)
    result = timed("read", lambda: read_units(Path(ctx.raw), units, ctx.settings.max_file_bytes))
    rejects = list(result.rejects)
    docs = result.docs
    docs = _run_stages(ctx, "prepare", res, docs, rejects, timed)
    recount = frozenset(recount)
    # (bp-8) each line's key, also kept for finish's boilerplate stage (carried.py): no line hashed twice
    paged = [site_and_page_keys(doc) for doc in docs] if ctx.runs("boilerplate") else []
    found = [(site, keys) for site, keys, _ in paged]
    ctx.work.mkdir(parents=True, exist_ok=True)
    # The batch's rows of the processed-files state wait here (write_processed), not in the flow's process.
    pq.write_table(file_rows_table(result.files), ctx.files.file_rows(batch))
    pq.write_table(site_lines_table(found), ctx.files.site_lines(batch))
    if recount:
        again = [keys for doc, keys in zip(docs, found) if _file_of(doc.source_path, recount)]
        pq.write_table(site_lines_table(again), ctx.files.site_lines_recount(batch))
    _dump(ctx.files.prepared(batch), (pack(docs), rejects, pack_page_keys([keys for *_, keys in paged])))
    counts.articles = len(docs)
    counts.rejects = len(rejects)
    return counts


def site_lines_table(found: list[tuple[str, set[int]]]) -> pa.Table:
    """The per-site line counts of documents given as ``(site, line keys)``, as rows
    (``SiteLineStats.add_all`` then ``to_arrow``: counted and turned into columns in bulk)."""
    return SiteLineStats().add_all(found).to_arrow()


def merge_site_lines(ctx: RunContext, previous: Path | None, batches: list[int]) -> pa.Table:
    """All counts so far (stored state plus this run's batches), summed per (site, line).

    The counts of re-read files (``sitelines-recount-*``) are taken back out:
    the stored state holds them from their first reading.
    """
    import pyarrow.compute as pc

    parts = [pq.read_table(ctx.files.site_lines(b)) for b in batches]
    for b in batches:
        if (again := ctx.files.site_lines_recount(b)).is_file():
            t = pq.read_table(again)
            parts.append(t.set_column(2, "n_docs", pc.negate(t.column("n_docs"))))
    if previous is not None and (previous / STATE / SITE_LINES).is_file():
        parts.append(pq.read_table(previous / STATE / SITE_LINES))
    if not parts:
        return SiteLineStats.SCHEMA.empty_table()
    merged = pa.concat_tables(parts).group_by(["site", "line_key"]).aggregate([("n_docs", "sum")])
    merged = merged.rename_columns(["site", "line_key", "n_docs"]).cast(SiteLineStats.SCHEMA)
    return merged.filter(pc.greater(merged.column("n_docs"), 0))  # a re-read file's lines, gone


def write_site_lines(ctx: RunContext, previous: Path | None, batches: list[int]) -> int:
    """Merge this run's per-site line counts into the stored ones (the state later runs
    read) and write the rows the workers need: lines frequent enough to be judged
    repeated. The number of those rows.

    Run in a pool worker, not the flow's process: the merge's tables grow with the
    corpus's distinct lines (about 100 MiB at 20,000 articles), and the flow's process
    would keep that memory for the rest of the run."""
    import pyarrow.compute as pc

    merged = merge_site_lines(ctx, previous, batches)
    pq.write_table(merged, Path(ctx.staging) / STATE / SITE_LINES, compression="zstd")
    min_docs = ctx.settings.stage("boilerplate").repeated_min_docs  # not resources(): that compiles the rules
    active = merged.filter(pc.or_(pc.is_null(merged.column("line_key")),
                                  pc.greater_equal(merged.column("n_docs"), min_docs)))
    pq.write_table(active, ctx.files.site_lines_active())
    return active.num_rows


def write_processed(ctx: RunContext, previous: Path | None, restat: pa.Table, batches: list[int]) -> int:
    """Write the processed-files state: the stored one (``previous``'s) updated with the
    re-stat rows, then the file rows of ``batches`` in order. The number of rows added.

    Run in a pool worker after the batches: their rows wait in the work folder, so
    the flow's process never holds a row per file read (it grew about 1 KB per file)."""
    files = pa.concat_tables([restat, *(pq.read_table(ctx.files.file_rows(b)) for b in batches)])
    save_processed(Path(ctx.staging) / STATE, read_processed(previous / STATE if previous else None),
                   ctx.run_id, files)
    return files.num_rows


def finish_batch(ctx: RunContext, batch: int) -> BatchCounts:
    """Step 2: boilerplate, metadata, entities, quotes, sketches; write the batch's parts."""
    records, rejects, *carried = _load(ctx.files.prepared(batch))  # (bp-8) carried: prepare's line keys, if any
    docs = unpack(records)
    counts = BatchCounts(batch=batch)
    timed = _Timer(counts.stage_seconds)
    res = resources(ctx.settings, ctx.config_hash)
    stats_path = ctx.files.site_lines_active()
    stats = _site_stats(str(stats_path), stats_path.stat().st_mtime_ns, res.boilerplate) \
        if stats_path.is_file() else None
    with carried_line_keys(docs, carried[0] if carried else None):  # (bp-8)
        docs = _run_stages(ctx, "finish", dataclasses.replace(res, site_stats=stats), docs, rejects, timed)
    dedup = ctx.runs("dedup")
    near_dup = res.settings["dedup"]
    quotes = timed("sketch", lambda: quotes_pending(docs, ctx, sketches=dedup, settings=near_dup.quotes))
    article_sketches = timed("sketch", lambda: _sketches([d.text for d in docs], near_dup.articles, dedup))

    now = datetime.now(timezone.utc)
    staging = Path(ctx.staging)
    name = ctx.files.part_name(batch)
    articles = articles_table(docs, ctx, now)
    # Articles wait in the work folder for their near-duplicate links (finalize_run).
    _work_file(pa.table({"doc_id": articles.column("doc_id"),
                         "signature": article_sketches.column("signature"),
                         "grams": article_sketches.column("grams")}),
               ctx.files.article_sketches(batch))
    _work_file(articles, ctx.files.articles(batch))
    _work_file(quotes, ctx.files.quotes(batch))
    counts.articles = articles.num_rows
    counts.quotes = quotes.num_rows
    edits = edits_table(docs, ctx)
    counts.edits = write_part(staging, "edits", edits, name, ctx.run_date)
    for stage in edits.column("stage").to_pylist():
        counts.edits_by_stage[stage] = counts.edits_by_stage.get(stage, 0) + 1
    # a few rows per article: one part per run, written by finalize_run (merge_small_tables)
    _work_file(entities_table(docs, ctx.run_id), ctx.files.merged_rows("entities", batch))
    _work_file(suggestions_table(docs, ctx.run_id), ctx.files.merged_rows("suggestions", batch))
    counts.rejects = write_part(staging, "rejects", rejects_table(rejects, ctx), name, ctx.run_date)
    for r in rejects:
        counts.rejects_by_reason[r.reason] = counts.rejects_by_reason.get(r.reason, 0) + 1
    counts.chars = sum(len(d.source) for d in docs)
    return counts


def _work_file(table: pa.Table, path: Path) -> None:
    """A batch's rows for a later step of the run (work folder, read once or twice,
    then deleted): Parquet without compression or dictionaries. Snappy and the
    dictionary pass over text, signatures and n-grams that hardly repeat took
    2-3x the CPU of a plain write, and the reads were slower too (a batch's
    quotes: 34 -> 10 ms to write, 11 -> 8 ms to read; benchmarks/profile_run_layer.py)."""
    pq.write_table(table, path, compression="none", use_dictionary=False)


def merge_small_tables(ctx: RunContext, batches: list[int]) -> None:
    """Each table of :data:`MERGED_TABLES` as one part of the run in the staging snapshot,
    from the batches' rows in the work folder. One part per batch was 40 files of a
    few KB per 20,000 articles (and more with every hourly run) for readers to open."""
    for table in MERGED_TABLES:
        # A batch at a time into the one part (a row group each): the run's rows are never all held.
        with PartWriters(Path(ctx.staging), table, ctx.files.part_name(min(batches))) as out:
            for b in batches:
                if (p := ctx.files.merged_rows(table, b)).is_file():
                    out.write(pq.read_table(p), ctx.run_date)


def _sketches(texts: list[str], settings, on: bool) -> pa.Table:
    """MinHash sketches of ``texts``; null columns when dedup is skipped."""
    if not on:
        return pa.table({"signature": pa.nulls(len(texts)), "grams": pa.nulls(len(texts))})
    # (qe-10) A sketch is a pure function of its text: a text repeated in the batch (a quote
    # carried by several articles, a reprinted body) is sketched once and its row copied.
    first: dict[str, int] = {}
    rows = [first.setdefault(t, len(first)) for t in texts]
    if len(first) == len(texts):
        return sketch_table(texts, settings)
    return sketch_table(list(first), settings).take(pa.array(rows, pa.int64()))


def part_name(ctx: RunContext, batch: int) -> str:
    return ctx.files.part_name(batch)


def quote_id(doc_id: str, start: int, end: int) -> str:
    return hashlib.blake2b(f"{doc_id}:{start}:{end}".encode(), digest_size=8).hexdigest()


def quotes_pending(docs: list[Document], ctx: RunContext, sketches: bool = True,
                   settings: DedupSettings = QUOTE_SETTINGS) -> pa.Table:
    """The batch's quotes with their MinHash sketches, waiting for cluster ids."""
    # (qe-9) One pass over the quotes, then columns by zip, not ten comprehensions over them.
    rows = [(quote_id(d.doc_id, q.start, q.end), d.doc_id, d.source_path, q.text, q.speaker,
             q.speaker_id, q.speaker_name, q.kind, q.start, q.end) for d in docs for q in d.quotes]
    ids, doc_ids, paths, texts, speakers, speaker_ids, names, kinds, starts, ends = (
        zip(*rows) if rows else ((),) * 10)
    sketches = _sketches(list(texts), settings, sketches)
    # Typed columns: a batch without quotes must give the same schema as one with.
    return pa.table({
        "quote_id": pa.array(ids, pa.string()),
        "doc_id": pa.array(doc_ids, pa.string()),
        "source_path": pa.array(paths, pa.string()),
        "text": pa.array(texts, pa.string()),
        "speaker": pa.array(speakers, pa.string()),
        "speaker_id": pa.array(speaker_ids, pa.string()),
        "speaker_name": pa.array(names, pa.string()),
        "kind": pa.array(kinds, pa.string()),
        "start": pa.array(starts, pa.int32()),
        "end": pa.array(ends, pa.int32()),
        "run_id": pa.array([ctx.run_id] * len(rows), pa.string()),
        "signature": sketches.column("signature"),
        "grams": sketches.column("grams"),
    })


def articles_table(docs: list[Document], ctx: RunContext, now: datetime) -> pa.Table:
    m = [d.meta for d in docs]
    return pa.table({
        "doc_id": [d.doc_id for d in docs],
        "source_path": [d.source_path for d in docs],
        "source_sha256": [d.source_sha256 for d in docs],
        "source_encoding": [d.source_encoding for d in docs],
        "source_id": [x.get("id") for x in m],
        "url": [x.get("url") for x in m],
        **_dates(docs, ctx.started_at),
        "title": [x.get("title") for x in m],
        "site": [x.get("site") for x in m],
        "dateline": [x.get("dateline") for x in m],
        "reprinted_from": [x.get("reprinted_from") for x in m],
        "text": [d.text for d in docs],
        "language": [x.get("language") for x in m],
        "n_chars": pa.array([len(d.text) for d in docs], pa.int32()),
        "source_chars": pa.array([len(d.source) for d in docs], pa.int32()),
        "n_edits": pa.array([len(d.edits) for d in docs], pa.int32()),
        "n_replacement_chars": pa.array([replacement_char_count(d) for d in docs], pa.int32()),
        "near_duplicate_of": pa.nulls(len(docs), pa.string()),
        "run_id": pa.array([ctx.run_id] * len(docs), pa.string()),
        "pipeline_version": pa.array([ctx.pipeline_version] * len(docs), pa.string()),
        "config_hash": pa.array([ctx.config_hash] * len(docs), pa.string()),
        # from integers: building timestamps from datetime objects imports pandas (0.5 s per worker)
        "processed_at": pa.array([int(now.timestamp() * 1e6)] * len(docs), pa.int64()).cast(
            pa.timestamp("us", tz="UTC")),
    })


def _dates(docs: list[Document], started: datetime) -> dict[str, pa.Array]:
    """published (UTC), published_raw and first_seen columns (finalize_run keeps a stored first_seen).

    A new article is first seen when its run started, not when its batch ran:
    quote_clusters and article_clusters order undated articles by first_seen, and a
    batch clock made that order depend on how the run was cut into batches (which
    follows the worker count) and on which worker finished first."""
    found = [article_date(d.meta.get("published"), d.source) for d in docs]
    return {
        "published": pa.array([int(t.timestamp() * 1e6) if t else None for t, _ in found], pa.int64()).cast(_TS),
        "published_raw": pa.array([raw for _, raw in found], pa.string()),
        "first_seen": pa.array([int(started.timestamp() * 1e6)] * len(docs), pa.int64()).cast(_TS),
    }


def edits_table(docs: list[Document], ctx: RunContext) -> pa.Table:
    return items_table(docs, "edits", EDITS, run_id=ctx.run_id)


def rejects_table(rejects: list[Reject], ctx: RunContext) -> pa.Table:
    return pa.table({
        "source_path": [r.source_path for r in rejects],
        "source_sha256": [r.source_sha256 for r in rejects],
        "reason": [r.reason for r in rejects],
        "detail": [r.detail for r in rejects],
        "run_id": pa.array([ctx.run_id] * len(rejects), pa.string()),
    })


def _dump(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path) -> object:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _parts_of(runs: Iterable[str] | None):
    """Which part files can hold rows of ``runs``: theirs, and any not named by a run."""
    if runs is None:
        return None
    prefixes = {r[:8] for r in runs}
    if "" in prefixes:  # a file whose writer is not recorded: look everywhere
        return None
    return lambda name: (run := run_of_part(name)) is None or run in prefixes


def _file_of(source_path: str, files: frozenset[str]) -> bool:
    """Is ``source_path`` one of ``files`` or a JSONL line (``file#n``) of one?"""
    return source_path in files or source_path.rpartition("#")[0] in files


# Tables whose rows name their file; entities name only their article.
_BY_PATH = ("articles", "edits", "rejects", "suggestions")


def drop_replaced(ctx: RunContext, replaced: list[str], runs: Iterable[str] | None = None) -> int:
    """Remove the stored rows of files this run read again from the staging snapshot.

    The run's own rows (its ``run_id``) stay: they are the replacement. One
    pass per table. The quotes table is rewritten whole by ``finalize_run``,
    which drops them there. ``runs``, the ids of the runs that wrote those
    files' rows (the processed state knows them), limits the pass to their
    parts (named ``part-<run_id[:8]>-<batch>``). Returns the stored articles removed.
    """
    if not replaced:
        return 0
    import pyarrow.compute as pc

    from .incremental import file_key_in

    staging, files = Path(ctx.staging), pa.array(sorted(replaced), pa.string())
    parts = _parts_of(runs)

    def stored(rows: pa.Table) -> pa.ChunkedArray:
        return pc.not_equal(rows.column("run_id"), ctx.run_id)

    removed_articles, doc_ids = 0, pa.array([], pa.string())
    for table in _BY_PATH:
        n, ids = remove_rows(staging, table, lambda rows: pc.and_(
            stored(rows), file_key_in(rows.column("source_path"), files)), ["source_path", "run_id"], parts)
        if table == "articles":
            removed_articles, doc_ids = n, ids
    if len(doc_ids):
        ctx.work.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"doc_id": doc_ids}), ctx.files.removed_docs())  # for finalize_run
        remove_rows(staging, "entities", lambda rows: pc.and_(
            stored(rows), pc.is_in(rows.column("doc_id"), value_set=doc_ids)), ["doc_id", "run_id"], parts)
    return removed_articles
