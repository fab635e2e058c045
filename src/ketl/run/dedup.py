"""The run's near-duplicate step as task bodies (no Prefect): register, band shards, link.

After the finish tasks have written each batch's quotes and article sketches
to the work folder:

1. :func:`register_run` (one task) numbers the run's new quotes and articles
   and streams their sketches into the state's sketch files;
2. :func:`band_shard` (``SHARDS`` tasks, on any worker: a local process or a
   Dask worker) updates one group of LSH bands and verifies its candidate
   pairs, reading only those pairs' signatures;
3. :func:`finalize_half` (two tasks side by side, one per index) clusters with
   the shards' pairs and writes the ``articles`` (then ``article_clusters``) or
   the ``quotes`` table; :func:`write_quote_propagation` follows both.
   :func:`finalize_run` runs the same steps one after the other, in one process.

See :mod:`ketl.dedup.distributed` for why the split gives exactly the result
of one in-process ``NearDupIndex.add``.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..dedup import distributed
from ..dedup.index import ArticleIndex, NearDupIndex, QuoteIndex
from ..dedup.lsh import GRAM_PARTS
from .incremental import file_key_in
from .batch import RunContext, merge_small_tables
from .work import REMOVED_DOCS
from .first_seen import article_columns, keep_first_seen, upgrade_published
from .propagation import (PASS_ROWS, near_duplicate_targets, write_snapshot_article_clusters,
                          write_snapshot_quote_clusters)
from .release import release_memory
from ..schemas import QUOTES
from ..store import STATE, PartWriters, Store, rewrite_rows, write_part

# Band tasks per run. The result does not depend on it (tested); 8 splits the
# quotes' 32 bands and the articles' 16 evenly and keeps a 2-8 worker cluster busy.
SHARDS = 8

INDEXES: dict[str, type[NearDupIndex]] = {"quotes": QuoteIndex, "articles": ArticleIndex}
# The index's answer for the run's rows: a table, or built a slice at a time
Linked = pa.Table | distributed.LinkedRows


@dataclass(frozen=True)
class DedupPlan:
    """Step 1's decisions per index (``quotes``, ``articles``): small and picklable."""

    plans: dict[str, distributed.RunPlan]


@dataclass
class ShardPairs:
    """A band task's verified pairs per index, left in the work folder (``files``: the
    path of each index's pairs). They used to be the task's result: a corpus with many
    reprints has many pairs, and the flow process held every shard's and sent them
    on to the cluster step (10 MB per 2,000 articles of bench_vs_by_hand's corpus,
    measured with tracemalloc: memory that grew with the run)."""

    shard: int
    files: dict[str, str] = field(default_factory=dict)
    worker: str = ""  # host:pid that ran it, so a run can say where its band step ran
    seconds: float = 0.0

    @property
    def batch(self) -> int:  # the flow orders task results by this
        return self.shard

    def pairs(self, index: str) -> distributed.ShardFile:
        """The index's pairs and containment rows, read from the file as they are asked for."""
        return distributed.ShardFile(self.files[index])


@dataclass
class FinalCounts:
    quotes: int = 0
    clusters: int = 0
    near_duplicates: int = 0

    def plus(self, other: "FinalCounts") -> "FinalCounts":
        return FinalCounts(self.quotes + other.quotes, self.clusters + other.clusters,
                           self.near_duplicates + other.near_duplicates)


def check_stored_indexes(out: Path) -> None:
    """Raise DamagedIndex now if the dataset's stored indexes cannot be read,
    rather than deep inside a run (and retried to no avail)."""
    current = Store(Path(out)).current
    if current is not None:
        for cls in INDEXES.values():
            cls.check(current.resolve() / STATE)


def register_run(ctx: RunContext, batches: list[int], previous: Path | None) -> DedupPlan:
    """Step 1: item numbers and sketch files for the run's new quotes and articles."""
    return DedupPlan({name: register_index(ctx, name, batches, previous) for name in INDEXES})


def register_index(ctx: RunContext, name: str, batches: list[int], previous: Path | None) -> distributed.RunPlan:
    """Step 1 for one index (``quotes`` or ``articles``): the two share no file, so two
    workers can register them side by side."""
    old = previous / STATE if previous else None
    return distributed.register(INDEXES[name], name, old, Path(ctx.staging) / STATE, ctx.files.dedup(),
                                ctx.files.sketch_parts(name, batches), release=release_memory)


def band_shard(ctx: RunContext, plan: DedupPlan, shard: int, shards: int = SHARDS) -> ShardPairs:
    """Step 2 for one group of bands of each index."""
    t0 = time.thread_time()  # CPU, as the stages are counted
    out = ShardPairs(shard, worker=f"{socket.gethostname()}:{os.getpid()}")
    for name, cls in INDEXES.items():
        bands = distributed.shard_bands(cls.default_settings.bands, shard, shards)
        parts = distributed.shard_bands(GRAM_PARTS, shard, shards)
        path = ctx.files.shard_pairs(name, shard)
        path.parent.mkdir(parents=True, exist_ok=True)
        # streamed into the file as found; rewritten whole by a retried task: no atomic rename needed
        distributed.band_shard(cls, plan.plans[name], bands, gram_parts=parts, out=path, release=release_memory)
        out.files[name] = str(path)
        release_memory()  # the quotes' freed arrays: the articles' bands were built on top of them
    out.seconds = time.thread_time() - t0
    return out


def finalize_run(ctx: RunContext, batches: list[int], previous: Path | None,
                 plan: DedupPlan | None = None, shards: list[ShardPairs] | tuple = (),
                 replaced: list[str] | tuple = ()) -> FinalCounts:
    """Step 3, once per run: cluster the run's articles and quotes, write both tables.

    ``plan`` is None when the dedup stage is skipped: rows are written without
    clusters, and the stored index is left as it is. ``replaced`` names the
    stored files read again: their stored quotes are dropped (the new ones
    come with the batches).
    """
    counts = FinalCounts()
    for name in INDEXES:
        counts = counts.plus(finalize_half(ctx, name, batches, previous, plan, shards, replaced))
    write_quote_propagation(ctx)
    return counts


def finalize_index(ctx: RunContext, name: str, batches: list[int], previous: Path | None,
                   plan: DedupPlan | None = None, shards: list[ShardPairs] | tuple = (),
                   replaced: list[str] | tuple = ()) -> FinalCounts:
    """Step 3 for one index: cluster and write the ``articles`` (with the run's entities and
    suggestions) or the ``quotes`` table. The two write different files, so two
    workers run them side by side (:func:`finalize_half`)."""
    counts = FinalCounts()
    indexes: dict[str, NearDupIndex] = {}
    linked = None
    if name == "articles":
        merge_small_tables(ctx, batches)
    if plan is not None:
        index, linked = distributed.link_rows(INDEXES[name], plan.plans[name],
                                              [s.pairs(name) for s in shards], release=release_memory)
        index.drop_sketches()
        indexes[name] = index
        release_memory()  # the link step's arrays: the tables below are written in what they held
    elif previous is not None and name == "quotes":
        indexes["quotes"] = QuoteIndex.load(previous / STATE, bands=False, grams=False)
    if name == "articles":
        counts.near_duplicates = _write_articles(ctx, batches, previous, indexes, linked)
        release_memory()  # the parts' pages: article_clusters (finalize_half) was built over them
    else:
        counts.quotes, counts.clusters = _write_quotes(ctx, batches, previous, indexes.get("quotes"), linked,
                                                       replaced)
    return counts


def finalize_half(ctx: RunContext, name: str, batches: list[int], previous: Path | None,
                  plan: DedupPlan | None = None, shards: list[ShardPairs] | tuple = (),
                  replaced: list[str] | tuple = ()) -> FinalCounts:
    """:func:`finalize_index`, and after the articles half ``article_clusters``, which reads
    only the articles: the worker that wrote them builds it while the other still
    rewrites the quotes (it ran after both, on one core). :func:`write_quote_propagation`
    follows both halves."""
    counts = finalize_index(ctx, name, batches, previous, plan, shards, replaced)
    if name == "articles":
        write_article_propagation(ctx)
    return counts


def write_article_propagation(ctx: RunContext) -> int:
    """``article_clusters``, once the articles table is written; leaves the near-duplicates'
    targets in the work folder for :func:`write_quote_propagation` (rows written)."""
    targets = near_duplicate_targets(Path(ctx.staging))
    _targets_file(ctx).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"doc_id": targets}), _targets_file(ctx))
    return write_snapshot_article_clusters(Path(ctx.staging), ctx.run_id, ctx.run_date,
                                           ctx.files.quotes_part_name(), targets)


def write_quote_propagation(ctx: RunContext, pass_rows: int = PASS_ROWS) -> int:
    """``quote_clusters``, once both halves of step 3 are written (it reads quotes and articles).
    The articles half left the near-duplicates' targets: the articles table is not scanned
    for them again (it was scanned four times in step 3, now three)."""
    saved = _targets_file(ctx)
    targets = pq.read_table(saved).column(0).combine_chunks() if saved.is_file() else None
    return write_snapshot_quote_clusters(Path(ctx.staging), ctx.run_id, ctx.run_date, ctx.files.quotes_part_name(),
                                         pass_rows, targets)


def _targets_file(ctx: RunContext) -> Path:
    """Where the articles half of step 3 leaves :func:`near_duplicate_targets` (the work folder)."""
    return ctx.files.dedup() / "near-duplicate-targets.parquet"


def _write_articles(ctx: RunContext, batches: list[int], previous: Path | None,
                    indexes: dict[str, NearDupIndex], linked: Linked | None) -> int:
    """The run's article parts with their near-duplicate links (``linked``: the
    index's answer for every new article, in batch order); returns the links."""
    staging = Path(ctx.staging)
    # One batch's texts in memory at a time (all of the run's were: memory grew with the run).
    # Parts read on this thread (distributed.read_part): pq.read_table's scan threads kept
    # their pages, +75 MiB high-water over 30 parts, the articles half's peak.
    new_ids = [distributed.read_part(ctx.files.articles(b), ["doc_id"]) for b in batches]
    # first_seen survives re-reads: the stored rows of this run's doc_ids (not every stored row)
    # cast: a batch without articles wrote its doc_id column as nulls
    run_ids = pa.chunked_array([c for t in new_ids for c in t.column(0).cast(pa.string()).chunks], pa.string())
    run_ids = run_ids.combine_chunks() if len(run_ids) else pa.array([], pa.string())
    seen = article_columns(previous, ["doc_id", "first_seen", "processed_at"],
                           lambda t: pc.is_in(t.column("doc_id"), value_set=run_ids))
    del run_ids  # the run's ids (3.6 MB at 100,000 articles, and new_ids as many) are not held through the parts
    upgrade_published(staging)  # parts of an older ketl: published was the string as given
    dead, gone_now = _dead_articles(ctx, previous, new_ids)
    del new_ids
    if len(dead) and "articles" not in indexes and previous is not None:
        indexes["articles"] = ArticleIndex.load(previous / STATE, bands=False, grams=False)
    article_index = indexes.get("articles")
    if len(gone_now) and article_index is not None:
        _repoint_stored(staging, article_index, gone_now, dead)
    offset, near_duplicates = 0, 0
    for b in batches:
        articles = distributed.read_part(ctx.files.articles(b))
        if linked is not None and articles.num_rows:
            dup = linked.slice(offset, articles.num_rows).column("near_duplicate_of")
            offset += articles.num_rows
            dup = _repointed(articles.column("doc_id"), dup.combine_chunks(), article_index, dead)
            near_duplicates += len(dup) - dup.null_count
            articles = articles.set_column(articles.schema.get_field_index("near_duplicate_of"),
                                           "near_duplicate_of", dup)
        write_part(staging, "articles", keep_first_seen(articles, seen), ctx.files.part_name(b), ctx.run_date)
    return near_duplicates


def _write_quotes(ctx: RunContext, batches: list[int], previous: Path | None, quotes_index: NearDupIndex | None,
                  linked: Linked | None, replaced: list[str] | tuple) -> tuple[int, int]:
    """The quotes table, rewritten: old members' cluster_size grows when new ones join,
    and the quotes of re-read files give way to their new ones. Returns the run's
    quotes and the clusters of more than one member.

    Streamed in passes over the stored parts and the run's batches, in the same
    order: the ids (narrow) for the clusters' live members, then each piece with
    its cluster columns, written as it comes. The table was read whole, three
    copies deep (400 MB of a worker at 100,000 articles). The stored parts are read
    a slice of rows at a time (:data:`STORED_ROWS`): a stored part is a run date's
    whole table, and reading it whole held every stored quote's text (+258 MiB of
    an incremental run's step at 100,000 stored articles, and its filtered copy
    +136 more).
    """
    staging = Path(ctx.staging)
    pieces = _QuotePieces(ctx, batches, previous, linked, replaced)
    index = quotes_index or QuoteIndex()
    rows = sum(len(ids) for ids in pieces.id_slices())
    clusters, n_new = 0, 0
    if rows:
        if rows == len(index) and index.in_item_order(pieces.id_slices()):
            # The stored rows and then the new ones, none replaced: row k is item k, and
            # no id need be held (the whole column and its hash table: 60 MB at 555,216 quotes).
            live_item, live_size = index.item_order_roots()
        else:
            live_item, live_size = index.live_roots(pieces.ids())  # numbers, named a piece at a time
        release_memory()  # the id reads' and look-up's buffers: the pieces below were read into their pages
        offset = 0
        with PartWriters(staging, "quotes", ctx.files.quotes_part_name()) as out:
            for piece, new in pieces:
                n = piece.num_rows
                names = index.live_names(live_item[offset:offset + n], live_size[offset:offset + n])
                piece, multi = _cluster_columns(piece, *names)
                offset += n
                clusters += multi
                n_new += n if new else 0
                run_dates = pc.unique(piece.column("run_date"))
                if len(run_dates) == 1:  # a stored slice, or a batch: one run date, no filtered copy
                    out.write(piece, run_dates[0].as_py())
                else:
                    for run_date in run_dates.to_pylist():
                        out.write(piece.filter(pc.equal(piece.column("run_date"), run_date)), run_date)
                del piece, names
                # Each slice's reads and encoders in the pages the last one freed: without this
                # the pool's pages grew slice by slice (+110 MiB over 34 slices at 545,976 quotes).
                release_memory()
    elif replaced:  # every stored quote was replaced by none: the commit must not carry them over
        (staging / "quotes" / f"run_date={ctx.run_date}").mkdir(parents=True, exist_ok=True)
    return n_new, clusters


# The quotes columns the table is rebuilt from (cluster_size and is_canonical are recomputed).
_KEPT = [c for c in QUOTES.names if c not in ("cluster_size", "is_canonical")]
_TARGET = pa.schema([QUOTES.field(c) for c in _KEPT] + [pa.field("run_date", pa.string())])


# Stored quote rows read at a time by the quotes table's rewrite (a Parquet batch; a
# row group is read whole, and a first run writes one a batch of articles).
STORED_ROWS = 16_384


class _QuotePieces:
    """The rows of the new quotes table, a piece at a time: each stored part (less the
    re-read files' rows) a slice at a time, then each batch's new quotes; iterating gives
    ``(piece, is_new)`` in :data:`_TARGET`'s schema, :meth:`id_slices` their quote ids."""

    def __init__(self, ctx: RunContext, batches: list[int], previous: Path | None,
                 linked: Linked | None, replaced: list[str] | tuple, stored_rows: int | None = None) -> None:
        self.ctx, self.batches, self.linked, self.replaced = ctx, batches, linked, replaced
        self.stored_rows = stored_rows or STORED_ROWS
        root = previous / "quotes" if previous is not None else None
        self.stored = sorted(root.rglob("*.parquet")) if root is not None and root.is_dir() else []

    def id_slices(self):
        """The quote ids of the pieces, a slice at a time, in their order (as strings)."""
        # source_path only to drop the re-read files' rows (a wide column: 40 MB at 555,216 quotes)
        columns = ["quote_id", "source_path"] if self.replaced else ["quote_id"]
        for path in self.stored:
            for t in self._stored(path, columns):
                if t.num_rows:
                    yield t.column("quote_id").cast(pa.string())
        for path in self.ctx.files.sketch_parts("quotes", self.batches):
            ids = distributed.read_part(path, ["quote_id"]).column(0)
            if len(ids):
                yield ids.cast(pa.string())

    def ids(self) -> pa.Array:
        """Every piece's quote ids as one array."""
        chunks = [c for col in self.id_slices() for c in col.chunks]
        return pa.chunked_array(chunks, pa.string()).combine_chunks() if chunks else pa.array([], pa.string())

    def __iter__(self):
        for path in self.stored:
            for piece in self._stored(path, _TARGET.names):
                if piece.num_rows:
                    yield piece.cast(_TARGET), False
        offset = 0
        for path in self.ctx.files.sketch_parts("quotes", self.batches):
            piece = _new_quotes(self.ctx, path, self.linked, offset)
            offset += piece.num_rows
            if piece.num_rows:
                yield piece.select(_TARGET.names).cast(_TARGET), True

    def _stored(self, path: Path, columns: list[str]):
        """A stored part's ``columns`` (nulls for those an older ketl did not write), less
        the rows of re-read files; ``run_date`` from its folder: :attr:`stored_rows` rows
        at a time, read on this thread (as :func:`distributed.read_part`)."""
        names = pq.read_schema(path).names
        run_date = path.parent.name.partition("run_date=")[2] or None
        with pq.ParquetFile(path) as f:
            for batch in f.iter_batches(batch_size=self.stored_rows, use_threads=False,
                                        columns=[c for c in columns if c in names and c != "run_date"]):
                t = pa.Table.from_batches([batch])
                for c in columns:
                    if c == "run_date":
                        t = t.append_column("run_date", pa.array([run_date] * t.num_rows, pa.string()))
                    elif c not in t.column_names:
                        t = t.append_column(_TARGET.field(c), pa.nulls(t.num_rows, _TARGET.field(c).type))
                yield _without(t.select(columns), self.replaced) if "source_path" in columns else t.select(columns)


def _new_quotes(ctx: RunContext, path: Path, linked: Linked | None, offset: int) -> pa.Table:
    """One batch's quotes with their cluster ids (null when dedup is skipped); ``offset``:
    the batch's first row in ``linked`` (the index's answer for every new quote)."""
    # Not the sketches (512 bytes of signature a quote).
    columns = [n for n in pq.read_schema(path).names if n not in ("signature", "grams")]
    new = distributed.read_part(path, columns)
    if linked is not None and new.num_rows:
        rows = linked.slice(offset, new.num_rows)
        if not rows.column("quote_id").equals(new.column("quote_id")):
            raise RuntimeError("quote index returned rows out of order")
        cluster_id, similarity = rows.column("cluster_id"), rows.column("similarity").cast(pa.float32())
    else:
        cluster_id, similarity = pa.nulls(new.num_rows, pa.string()), pa.nulls(new.num_rows, pa.float32())
    return new.append_column("cluster_id", cluster_id).append_column("similarity", similarity).append_column(
        "run_date", pa.array([ctx.run_date] * new.num_rows, pa.string()))


def _dead_articles(ctx: RunContext, previous: Path | None, new_parts: list[pa.Table]) -> tuple[pa.Array, pa.Array]:
    """Indexed articles whose rows were replaced (a re-read file with other bytes): all
    of them, and those removed by this run. Kept in the state (``REMOVED_DOCS``), so
    a later article joining such a cluster is pointed at a live member too."""
    stored = previous / STATE / REMOVED_DOCS if previous is not None else None
    old = pq.read_table(stored).column("doc_id").combine_chunks() if stored and stored.is_file() \
        else pa.array([], pa.string())
    now_file = ctx.files.removed_docs()
    now = pq.read_table(now_file).column("doc_id").combine_chunks() if now_file.is_file() else pa.array([], pa.string())
    if not len(old) and not len(now):
        return old, now
    back = pa.concat_arrays([t.column("doc_id").combine_chunks() for t in new_parts]) if new_parts \
        else pa.array([], pa.string())
    dead = pc.unique(pa.concat_arrays([old, now]))
    dead = dead.filter(pc.invert(pc.is_in(dead, value_set=back)))  # same bytes read again: alive
    now = now.filter(pc.is_in(now, value_set=dead))
    pq.write_table(pa.table({"doc_id": dead}), Path(ctx.staging) / STATE / REMOVED_DOCS)
    return dead, now


def _repointed(doc_ids, dup: pa.Array, index: NearDupIndex | None, dead: pa.Array) -> pa.Array:
    """``dup`` (near_duplicate_of) with every pointer at a replaced article moved to
    the earliest live member of its cluster (null when that is the article itself)."""
    if index is None or not len(dead):
        return dup
    hit = pc.fill_null(pc.is_in(dup, value_set=dead), False)
    if not pc.any(hit).as_py():
        return dup
    return pc.if_else(hit, index.earliest_live(doc_ids, dead), dup)


def _repoint_stored(staging: Path, index: NearDupIndex, gone_now: pa.Array, dead: pa.Array) -> None:
    """Stored articles that pointed at an article this run removed point at a live one."""
    def fix(rows: pa.Table):
        if not pc.any(pc.fill_null(pc.is_in(rows.column("near_duplicate_of"), value_set=gone_now), False)).as_py():
            return None

        def change(part: pa.Table) -> pa.Table:
            col = part.schema.get_field_index("near_duplicate_of")
            dup = part.column(col).combine_chunks()
            return part.set_column(col, "near_duplicate_of", _repointed(part.column("doc_id"), dup, index, dead))
        return change

    rewrite_rows(staging, "articles", ["near_duplicate_of"], fix)


def _without(quotes: pa.Table, replaced: list[str]) -> pa.Table:
    """``quotes`` less the rows of the files this run read again."""
    if not replaced or not quotes.num_rows:
        return quotes
    return quotes.filter(pc.invert(file_key_in(quotes.column("source_path"), pa.array(replaced, pa.string()))))


def with_clusters(quotes: pa.Table, index: NearDupIndex) -> tuple[pa.Table, int]:
    """``quotes`` with ``cluster_id, cluster_size, is_canonical`` over its own rows; and the
    number of clusters of more than one member.

    A cluster whose earliest member was replaced is named by its earliest
    member still stored (:meth:`NearDupIndex.live_clusters`); quotes never
    indexed (dedup skipped) keep what they have.
    """
    return _cluster_columns(quotes, *index.live_clusters(quotes.column("quote_id")))


def _cluster_columns(quotes: pa.Table, live_id: pa.Array, live_size: pa.Array) -> tuple[pa.Table, int]:
    """:func:`with_clusters` for rows whose live cluster ids and sizes are known (a
    piece of the table: the live members are counted over the whole table)."""
    ids = quotes.column("quote_id")
    cluster_id = pc.coalesce(live_id, quotes.column("cluster_id"))
    canonical = pc.equal(cluster_id, ids)
    # The canonical member is its own reference, also after it took a replaced root's place.
    similarity = pc.if_else(pc.and_(pc.is_valid(live_id), pc.fill_null(canonical, False)),
                            pa.scalar(1.0, pa.float32()), quotes.column("similarity"))
    quotes = quotes.set_column(quotes.schema.get_field_index("cluster_id"), "cluster_id", cluster_id)
    quotes = quotes.set_column(quotes.schema.get_field_index("similarity"), "similarity", similarity)
    size = pc.fill_null(live_size, 1).cast(pa.int32())
    quotes = quotes.append_column("cluster_size", size).append_column("is_canonical", canonical)
    multi = pc.and_(pc.greater(size, 1), pc.fill_null(canonical, False))
    return quotes, pc.sum(multi.cast(pa.int64())).as_py() or 0


def stored_clusters(snapshot: Path) -> int:
    """Quote clusters of more than one member in a committed snapshot.

    A run that reads no file still reports the dataset's figure (not 0); only
    two small columns of the quotes table are read.
    """
    import pyarrow.dataset as ds

    root = Path(snapshot) / "quotes"
    if not root.is_dir() or not any(root.rglob("*.parquet")):
        return 0
    t = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["cluster_size", "is_canonical"])
    multi = pc.and_(pc.greater(t.column("cluster_size"), 1), pc.fill_null(t.column("is_canonical"), False))
    return pc.sum(multi.cast(pa.int64())).as_py() or 0
