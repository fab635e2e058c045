"""A run's near-duplicate step as three kinds of task, so no process holds every signature.

:meth:`NearDupIndex.add <ketl.dedup.index.NearDupIndex.add>` does everything in
one process. A run of the pipeline splits the same work so that each piece can
run on any worker (a local process, or a Dask worker on another machine with
the state on shared storage):

1. :func:`register` (once): give the run's new ids their item numbers and
   stream their sketches into the run's sketch file. Reads ids and one batch
   of sketches at a time.
2. :func:`band_shard` (one task per group of bands): compute the new items'
   keys in those bands only, merge them into the stored band files, and verify
   the candidate pairs by reading just those pairs' signatures from the
   memory-mapped sketch files. Bands never interact, so the union of the
   shards' pairs is exactly :meth:`BandTable.add <ketl.dedup.lsh.BandTable.add>`'s.
   The same task does the containment group-by for its share of the n-gram
   value ranges (:meth:`GramIndex.add_raw <ketl.dedup.lsh.GramIndex.add_raw>`).
3. :func:`link` (once): counts the containment rows into candidates, verifies
   them from the pairs' stored n-gram sets, finds connected components and
   similarities; writes the index's main table.

The result equals ``NearDupIndex.add`` over the same rows (tested), whatever
the number of shards. The coordinator steps (1 and 3) keep ids and cluster
roots (about 40 bytes per item); the band keys (32 x 24 bytes per quote), the
stored n-grams and the signatures (512 bytes) stay in the shards and on disk.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ketl.dedup.index import _FORMAT, NearDupIndex, write_atomic
from ketl.dedup.lsh import (BandTable, GramIndex, band_keys, containment_candidates_ranges, distinct_sorted,
                            new_codes, unique_row_pairs)
from ketl.dedup.sketches import SketchStore, SketchWriter, link_files, merge_files, share_equal

__all__ = ["RunPlan", "ShardResult", "ShardFile", "LinkedRows", "register", "band_shard", "link", "link_rows",
           "shard_bands", "read_part"]

# New items whose band keys are computed at a time in a shard: a block's signatures are
# copied (16 MB) and kept while its pairs are measured (_block_jaccard). 2^16 was a
# 100,000-article band task's peak. The pairs files list a block's pairs sorted, block
# after block: another size gives the same pairs in another order.
_BLOCK = 1 << 15
# Pairs measured at a time by _block_jaccard (its copies: the earlier items' signatures,
# both ends' rows, 1.1 KB a pair), fewer than _PAIRS since the block's copy is held meanwhile.
_BLOCK_PAIRS = 1 << 12
# Items per window of the tiles the pair measures order their pairs by (_by_tiles): a
# chunk's items then lie close in the sketch files. Tiles used to be mapped whole, so
# the window bounded the pages resident (2^17: 128 MB at 100,000 articles); now a chunk's
# items are copied a span of bytes at a time (_SPAN), and the window only orders.
_TILE = 1 << 16
_LINK_TILE = 1 << 17  # the link step's (BlockMapped)
MAX_SKETCH_FILES = 32  # stored sketch files before a run merges them


@dataclass(frozen=True)
class RunPlan:
    """What :func:`register` decided, for the shards and :func:`link` (picklable)."""

    index: str  # "quotes" / "articles": a key for callers
    old_state: str | None  # the stored index read (None: a first or full run)
    new_state: str  # the state folder this run writes
    work: str  # the run's scratch folder
    n_old: int
    n: int

    @property
    def new(self) -> int:
        return self.n - self.n_old

    def _file(self, what: str, cls: type[NearDupIndex]) -> Path:
        return Path(self.work) / f"{cls.file_name.removesuffix('.parquet')}.{what}"


@dataclass
class ShardResult:
    """A band task's output for one index: small, whatever the stored size."""

    pairs: np.ndarray  # verified band pairs (earlier, later)
    weights: np.ndarray  # their estimated Jaccard
    anchor_rows: np.ndarray  # containment group-by rows: an anchor of [:, 0] found in [:, 1]

    def pair_slices(self, rows: int | None = None):
        """The verified pairs, as :meth:`ShardFile.pair_slices` gives them: already in
        memory, so in one piece."""
        yield self.pairs


def shard_bands(bands: int, shard: int, shards: int) -> list[int]:
    """The bands (or n-gram partitions) shard ``shard`` of ``shards`` holds (round robin)."""
    return list(range(shard, bands, shards))


def register(cls: type[NearDupIndex], index: str, old_state: Path | None, new_state: Path, work: Path,
             parts: Sequence[Path], settings=None, release: Callable[[], None] = lambda: None) -> RunPlan:
    """Step 1: item numbers for the rows of ``parts`` (Parquet files in processing order,
    with the id column and the ``signature``/``grams`` columns of ``sketch_table``).

    Rows whose id is stored, or seen earlier in this run, keep that item.
    Writes the new items' sketches to ``new_state`` (after hard links to the
    stored sketch files) and the row-to-item map to ``work``. ``release()`` follows
    the numbering (the run returns freed memory to the system: the sketches are read
    into the pages the ids' look-ups freed).
    """
    work, new_state = Path(work), Path(new_state)
    work.mkdir(parents=True, exist_ok=True)
    if old_state is not None and cls.stored_format(old_state) not in (None, _FORMAT):
        # An older layout: convert it once into the work folder and read it from there.
        migrated = work / f"migrated-{index}"
        cls.load(old_state, settings).save(migrated)
        old_state = migrated
    idx = cls.load(old_state, settings, bands=False, grams=False) if old_state else cls(settings)
    release()  # the stored index's reads: the numbering below was laid over their pages
    n_old = len(idx)
    new_rows, n_new = _number(cls, idx, parts, RunPlan(index, None, str(new_state), str(work), n_old, n_old))
    release()
    sketches = cls.paths(new_state).sketches
    if old_state:
        stored = idx._sketches.files()
        if len(stored) >= MAX_SKETCH_FILES:
            # Hourly runs add a file each and every file is mapped (one open file
            # each): merge all but the first (the bulk load) into one.
            merge_files(stored[1:], sketches, idx.settings.num_perm)
            stored = stored[:1]
        link_files(stored, sketches)
    # new_rows is ascending, so streaming the parts in order writes items in order.
    with SketchWriter(sketches, n_old, idx.settings.num_perm) as writer:
        offset = 0
        for path in parts:
            part = read_part(path, ["signature", "grams"])
            lo, hi = np.searchsorted(new_rows, [offset, offset + part.num_rows])
            if hi > lo:
                take = pa.array(new_rows[lo:hi] - offset, pa.int64())
                writer.write(part.column("signature").take(take).combine_chunks(),
                             part.column("grams").take(take).combine_chunks())
            offset += part.num_rows
    return RunPlan(index, str(old_state) if old_state else None, str(new_state), str(work), n_old, n_old + n_new)


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """``columns`` (default: all) of one Parquet file, on this thread: ``pq.read_table``'s
    dataset scan and thread pools left ~50 MiB more resident after the register step read
    its 100 parts (the cluster step's quotes half likewise)."""
    return pq.ParquetFile(path).read(columns=columns, use_threads=False)


def _number(cls: type[NearDupIndex], idx: NearDupIndex, parts: Sequence[Path], plan: RunPlan) -> tuple[np.ndarray, int]:
    """Number the rows of ``parts`` (:meth:`NearDupIndex._positions`) and leave the row-to-item
    map and the new ids in ``plan``'s work files; return the new rows and their count. The
    ids and the map are written here and dropped, not held while the sketches stream."""
    ids = pa.concat_arrays([read_part(p, [cls.id_column]).column(0).cast(pa.string()).combine_chunks()
                            for p in parts]) if parts else pa.array([], pa.string())
    if ids.null_count:
        raise ValueError(f"{cls.id_column} has nulls: every row needs an id")
    pos, new_rows, new_ids = idx._positions(ids)
    del ids
    np.save(plan._file("rows.npy", cls), pos)
    _write_ids(new_ids, plan._file("new-ids.arrow", cls))
    return new_rows, len(new_ids)


def _write_ids(ids: pa.Array, path: Path) -> None:
    """The new ids for the link step, as an Arrow file: read back in one buffer per column
    (:func:`_read_ids`), where decoding the Parquet file of 555,216 ids took +60 MiB over
    the 11 MB it gave (its pages, decompressed, and a growing builder)."""
    table = pa.table({"id": ids})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_ids(path: Path) -> pa.Array:
    if not path.exists() and path.with_suffix(".parquet").exists():  # left by an older ketl's step 1
        return read_part(path.with_suffix(".parquet")).column("id").combine_chunks()
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all().column("id").combine_chunks()


def band_shard(cls: type[NearDupIndex], plan: RunPlan, bands: Sequence[int], settings=None,
               gram_parts: Sequence[int] = (), out: str | Path | None = None,
               release: Callable[[], None] = lambda: None) -> "ShardResult | ShardFile":
    """Step 2 for ``bands`` (and n-gram partitions ``gram_parts``): merge the new
    items into those stored files; return the verified band pairs and the
    containment rows.

    With ``out``, they are streamed into that ``.npz`` file as they are found (a block
    of new items, a partition, at a time) and a :class:`ShardFile` of it is returned:
    held until the task's end, the pairs were what grew with the run (1.1 million
    pairs and 0.6 million containment rows, 32 MB, per quote task at 100,000 articles
    of bench_vs_by_hand's corpus, twice that while concatenated). ``release()`` is
    called after each block of new items, after the band files and after each partition
    (the run returns freed memory to the system: Arrow's pool kept the Parquet writes'
    pages, 9 MB at 20,000 articles, and the heap grew block after block)."""
    s = settings or cls.default_settings
    new_paths = cls.paths(plan.new_state)
    old_paths = cls.paths(plan.old_state) if plan.old_state else None
    new_paths.bands.mkdir(parents=True, exist_ok=True)
    gram_parts = list(gram_parts) if s.containment else []
    if gram_parts:
        new_paths.grams.mkdir(parents=True, exist_ok=True)
    # A failed attempt closes and deletes its scratch files (a retry writes its own).
    with _Found(out) as found:
        if plan.new == 0:
            for b in bands:
                _keep(old_paths and old_paths.band(b), new_paths.band(b))
            for k in gram_parts:
                _keep(old_paths and old_paths.gram_part(k), new_paths.gram_part(k))
            return found.result()
        table = BandTable(s.bands)
        for b in bands:
            if old_paths and old_paths.band(b).exists():
                table.load_band(b, pq.read_table(old_paths.band(b)))
        # Opened once per task (opening maps each record batch: 22 ms for the quotes of 100,000
        # articles, and it was done three times per block); the pages a block read are dropped
        # after it instead (_FilePages), which is what reopening per block achieved.
        store = SketchStore.open(new_paths.sketches, s.num_perm, upto=plan.n)
        for pairs, weights in _band_pairs(store, plan, table, bands, s):
            found.add("pairs", pairs)
            found.add("weights", weights)
            del pairs, weights
            release()  # the block's copies, freed
        for b in bands:
            write_atomic(table.band_to_table(b), new_paths.band(b), use_dictionary=False)
        del table
        release()
        for k in gram_parts:  # a partition at a time: its new codes, and its stored ones, are all it holds
            old = old_paths.gram_part(k) if old_paths else None
            grams = GramIndex.from_table(pq.read_table(old)) if old and old.exists() else GramIndex()
            for a, c in grams.add_code_rows(*_part_codes(store, plan, [k], s)[k], s.max_anchor_group):
                found.add("anchor_rows", np.stack((a, c), axis=1))
            write_atomic(grams.to_table(), new_paths.gram_part(k), use_dictionary=False)
            del grams
            release()
        return found.result()


def _part_codes(store: SketchStore, plan: RunPlan, parts: Sequence[int], s) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The new items' n-gram codes and anchor flags (:func:`~ketl.dedup.lsh.new_codes`) of each
    value partition in ``parts``, read a block of items at a time: a copy of every new
    n-gram (56 MB at 100,000 articles) and its whole-run temporaries were the band
    task's peak; a task keeps only its partitions' codes (4 of 32 with 8 tasks)."""
    out: dict[int, list] = {k: ([], []) for k in parts}
    pages = _FilePages(store)
    for lo in range(plan.n_old, plan.n, _BLOCK):
        gv, go = store.grams(lo, min(lo + _BLOCK, plan.n))
        pages.drop()  # the copy is enough: the pages read leave the process
        for k in parts:
            c, a = new_codes(gv, go, lo, s.anchors, s.containment_min_grams, k)
            out[k][0].append(c)
            out[k][1].append(a)
    return {k: (np.concatenate(c) if c else np.empty(0, np.uint64), np.concatenate(a) if a else np.empty(0, bool))
            for k, (c, a) in out.items()}


def _band_pairs(store: SketchStore, plan: RunPlan, table: BandTable, bands: Sequence[int], s):
    """The new items' verified pairs in ``bands`` and their weights, a block of new items
    at a time, merging their keys into ``table``.

    A block's rows pair only with earlier items, so the blocks' pairs are disjoint
    and their union is the one-shot result, while the raw pairs and their
    de-duplication stay one block's. The pages of ``store``'s files a block read (its
    signatures, its pairs') are dropped from the process after it instead of piling
    up to every signature of the run.
    """
    pages = _FilePages(store)
    for lo in range(plan.n_old, plan.n, _BLOCK):
        hi = min(lo + _BLOCK, plan.n)
        sigs = store.signatures(np.arange(lo, hi))
        keys = band_keys(sigs, s.bands, s.rows, which=bands)
        pages.drop()
        pairs = unique_row_pairs([x for j, b in enumerate(bands) for x in table.add_band_links(b, keys[:, j], lo)], lo)
        del keys
        weights = _block_jaccard(store, pages, sigs, lo, pairs)
        del sigs
        ok = weights >= s.threshold
        yield pairs[ok], weights[ok]


def _by_tiles(sketches: Path | None, num_perm: int, n: int, pairs: np.ndarray, measure: str, dtype,
              window: int | None = None, chunk: int | None = None, store: SketchStore | None = None) -> np.ndarray:
    """``SketchStore.<measure>(pairs)`` (``jaccard`` or ``intersection_sizes``), ``chunk``
    pairs at a time, each chunk measured on a copy of its items' sketches (:func:`_gathered`),
    the pairs ordered by tiles of ``window`` x ``window`` items so a chunk's items lie close.

    Pairs reach back to any earlier item, so one mapping kept every page of the run's
    signatures they touched resident: the band tasks' peak RSS grew with the run (233
    MiB at 20,000 articles of bench_vs_by_hand's corpus, 438 at 100,000, where the quote
    signatures are 284 MB). Mapping the files anew per tile bounded it by a tile's two
    windows (128 MB of pages with 2^17-item windows), and smaller windows faulted the
    same pages in again for fewer pairs (+30 % CPU). A copy bounds the pages by
    ``_SPAN`` bytes of file, whatever the window. Same values, in the pairs' order.
    ``store``: the files already open (``sketches`` is then not read).
    """
    out = np.empty(len(pairs), dtype)
    if not len(pairs):
        return out
    window, chunk = window or _TILE, chunk or _PAIRS
    tiles = -(-max(n, 1) // window)
    order = None
    if tiles > 1:
        order = np.argsort((pairs[:, 0] // window) * tiles + pairs[:, 1] // window, kind="stable")
    store = store or SketchStore.open(sketches, num_perm, upto=n)
    pages = _FilePages(store)
    # every item's n-gram set size, and where its set ends in the files: once, not per chunk
    lengths = store.gram_lengths(0, len(store)) if measure == "intersection_sizes" else None
    ends = np.cumsum(lengths) if lengths is not None else None
    for start in range(0, len(pairs), chunk):
        take = order[start:start + chunk] if order is not None else slice(start, start + chunk)
        ends_of = pairs[take].ravel()
        items = distinct_sorted(ends_of)  # np.unique's return_inverse argsorts: a sort and a search are faster
        local = np.searchsorted(items, ends_of)
        near = _gathered(store, pages, items, measure, lengths, ends)
        out[take] = getattr(near, measure)(local.reshape(-1, 2))
    pages.drop()
    return out


# Bytes of sketch file whose pages a measure holds at once (:func:`_gathered`), and pairs
# measured per copy (a copy holds up to twice as many items' sketches). The link's Jaccard
# at 100,000 articles (552,029 pairs), peak over its input / CPU: tiles of mapped 2^17-item
# windows +155 MiB / 0.36 s (2^16: +95 / 0.63); copies of 32,768 pairs and 16 MB +75 / 0.47,
# 8,192 and 16 MB +42 / 0.41, 8,192 and 8 MB +35 / 0.36 (a band file's 1.1 million: +175
# / 0.80 s mapped, +49 / 0.78 copied).
_SPAN = 8 << 20
_PAIRS = 1 << 13


def _gathered(store: SketchStore, pages: "_FilePages", items: np.ndarray, measure: str,
              lengths: np.ndarray | None = None, ends: np.ndarray | None = None) -> SketchStore:
    """An in-memory store of the sorted distinct ``items``' sketches (item k of it is
    ``items[k]``): only what ``measure`` reads (signatures for ``jaccard``, n-gram sets
    for ``intersection_sizes``, given every item's set size ``lengths`` and their running
    sum ``ends``), read ``_SPAN`` bytes of file at a time, each span's pages dropped from
    the process once copied."""
    near = SketchStore(store.num_perm)
    if measure == "intersection_sizes":  # n-gram sets vary in size: the file bytes up to each item
        at = ends[items] * 4
        offsets = np.zeros(len(items) + 1, np.int64)
        np.cumsum(lengths[items], out=offsets[1:])
        values = np.empty(offsets[-1], np.uint32)
        for lo, hi in _spans(at):
            values[offsets[lo]:offsets[hi]] = store.gram_sets(items[lo:hi])[0]
            pages.drop()
        near.append(np.empty((len(items), 0), np.uint32),
                    pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values)))
    else:
        sigs = np.empty((len(items), store.num_perm), np.uint32)
        for lo, hi in _spans(items * (store.num_perm * 4)):
            sigs[lo:hi] = store.signatures(items[lo:hi])
            pages.drop()
        near.append(sigs)
    return near


def _spans(at: np.ndarray, most: int | None = None):
    """``[lo, hi)`` runs of the sorted file positions ``at`` that span at most ``_SPAN`` bytes
    (one position at least), and hold at most ``most`` positions when given."""
    lo = 0
    while lo < len(at):
        hi = max(lo + 1, int(np.searchsorted(at, at[lo] + _SPAN, side="left")))
        if most is not None:
            hi = min(hi, lo + most)
        yield lo, hi
        lo = hi


class _FilePages:
    """Drops the pages of a store's memory-mapped sketch files from the process (they stay
    in the page cache: reading them again is a minor fault). Resident file pages count in
    a process's RSS, and a measure's reads would keep every page it touched to the end.

    Only the store's own mappings are dropped, as the store holds them
    (:meth:`SketchStore.mapped_buffers`), and they are held here too, so none can be
    unmapped and its addresses reused while this object lives. Addresses taken from
    ``/proc/self/maps`` could not promise that: another store's mapping of the same
    file, closed meanwhile, could by then hold a fresh array, and dropping the pages
    of private memory zero-fills them. An array held in memory is never touched."""

    def __init__(self, store: SketchStore) -> None:
        self._madvise = _madvise()
        self.buffers = [b for b in store.mapped_buffers() if b.size and b.address % mmap.PAGESIZE == 0] \
            if self._madvise else []

    def drop(self) -> None:
        for buf in self.buffers:
            self._madvise(ctypes.c_void_p(buf.address), ctypes.c_size_t(buf.size), mmap.MADV_DONTNEED)


@functools.lru_cache(maxsize=1)
def _madvise():
    """libc's ``madvise``, or None where it or MADV_DONTNEED is missing (the pages then stay)."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return fn


class BlockMapped:
    """The sketch files as the link step reads them: each measure through :func:`_by_tiles`,
    whose pages read leave the process after each span of the files. Mapped
    once, every signature and n-gram set the step touched stayed resident to its
    end: 385 MB of file pages at 100,000 articles of bench_vs_by_hand's corpus
    (nearly every quote is clustered there, so nearly every item is read); mapped
    per block of pairs, a block's pairs still touched items all over the files."""

    def __init__(self, folder: Path, num_perm: int, n: int, block: int | None = None) -> None:
        self.folder, self.num_perm, self.n = Path(folder), num_perm, n
        self.block = block or _LINK_TILE  # items per tile window

    def _store(self) -> SketchStore:
        return SketchStore.open(self.folder, self.num_perm, upto=self.n)

    def __len__(self) -> int:
        return self.n

    def jaccard(self, pairs: np.ndarray) -> np.ndarray:
        return _by_tiles(self.folder, self.num_perm, self.n, pairs, "jaccard", np.float32, self.block)

    def intersection_sizes(self, pairs: np.ndarray) -> np.ndarray:
        return _by_tiles(self.folder, self.num_perm, self.n, pairs, "intersection_sizes", np.int64, self.block)

    def write_new(self, folder: Path) -> None:
        self._store().write_new(folder)

    def files(self) -> list[Path]:
        return self._store().files()


def _keep(old: Path | None, new: Path) -> None:
    """A stored file the run does not change: linked into the new state."""
    if old and old.exists() and not new.exists():
        os.link(old, new)


def link(cls: type[NearDupIndex], plan: RunPlan, shards: Sequence[ShardResult | ShardFile],
         settings=None, release: Callable[[], None] = lambda: None) -> tuple[NearDupIndex, pa.Table]:
    """:func:`link_rows`, its answer as one table."""
    idx, rows = link_rows(cls, plan, shards, settings, release)
    return idx, rows.slice(0, len(rows))


def link_rows(cls: type[NearDupIndex], plan: RunPlan, shards: Sequence[ShardResult | ShardFile],
              settings=None, release: Callable[[], None] = lambda: None) -> tuple[NearDupIndex, "LinkedRows"]:
    """Step 3: cluster the new items with the shards' pairs and containment rows;
    save the index's main table to ``plan.new_state``.

    ``shards`` are read a shard at a time, in order, a few times over (a
    :class:`ShardFile` reads its file each time): the pairs are streamed into the
    components (:func:`~ketl.dedup.lsh.cluster_blocks`) and the containment rows
    into their counts (:func:`~ketl.dedup.lsh.containment_candidates_blocks`); merging
    every shard's pairs first held them all (the cluster step's peak grew with the run).
    ``release()`` is called between the phases (the run returns freed memory to the system).
    Returns the index (for cluster sizes) and, for every row registered in
    step 1 in the same order, ``<id>, cluster_id, similarity`` (as ``add``), built a
    slice at a time (:class:`LinkedRows`).
    """
    idx = cls.load(plan.old_state, settings, bands=False, grams=False) if plan.old_state else cls(settings)
    idx._bands = idx._grams = None  # the shards own the band and n-gram files
    if len(idx) != plan.n_old:
        raise ValueError(f"stored index changed since step 1 ({len(idx)} items, expected {plan.n_old})")
    release()  # the stored index's reads: the containment and link steps below were laid over their pages
    s = idx.settings
    if plan.new:
        folder = cls.paths(plan.new_state).sketches
        idx._n = plan.n
        idx._lens = np.concatenate((idx._lens, SketchStore.open(folder, s.num_perm, upto=plan.n)
                                    .gram_lengths(plan.n_old, plan.n)))
        idx._sketches = BlockMapped(folder, s.num_perm, plan.n)
        shards = list(shards)
        extra = None
        if s.containment:  # the candidates are dropped once verified (they were held to the end)
            extra = idx._contained(containment_candidates_ranges(
                lambda: ((r[:, 0], r[:, 1]) for r in (sh.anchor_rows for sh in shards)), idx._lens,
                s.min_anchor_hits))
            release()
        idx._link(plan.n_old, lambda: ((sh.pairs, sh.weights) for sh in shards), extra, release,
                  lambda: (p for sh in shards for p in sh.pair_slices()))
        del extra
    # The ids and the row map wait until the clusters are found (16 MB at 555,216 quotes).
    if plan.new:
        idx._id_chunks.append(_read_ids(plan._file("new-ids.arrow", cls)))
        release()  # the read's buffers would stay under the table below
    idx.save(plan.new_state)
    return idx, LinkedRows(idx, np.load(plan._file("rows.npy", cls)))


class _Found:
    """A band task's results as they come (a block of pairs, a partition's containment rows):
    kept in lists and returned as a :class:`ShardResult`, or, given ``out``, appended to
    scratch files beside it and put together into :class:`ShardFile`'s ``.npz`` (what
    ``np.savez`` writes: a stored zip of ``.npy`` members) without holding them."""

    _ARRAYS = {"pairs": ((0, 2), np.int64), "weights": ((0,), np.float32), "anchor_rows": ((0, 2), np.int64)}
    _COPY = 1 << 20  # bytes copied at a time from a scratch file into the zip

    def __init__(self, out: str | Path | None) -> None:
        self.out = Path(out) if out is not None else None
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in self._ARRAYS}
        self.rows = dict.fromkeys(self._ARRAYS, 0)
        self.files: dict[str, object] = {}

    def _scratch(self, name: str) -> Path:
        # Named per attempt: a retry in the same process, or a timed-out attempt still
        # running beside its retry, never writes into (or deletes) another attempt's files.
        return self.out.with_name(f"{self.out.name}.{name}.{os.getpid()}-{id(self):x}.part")

    def __enter__(self) -> "_Found":
        return self

    def __exit__(self, kind, value, tb) -> bool:
        if kind is not None:
            self.discard()
        return False

    def discard(self) -> None:
        """Close and delete the scratch files of an attempt that failed."""
        for name, fh in self.files.items():
            fh.close()
            self._scratch(name).unlink(missing_ok=True)
        self.files.clear()

    def add(self, name: str, array: np.ndarray) -> None:
        shape, dtype = self._ARRAYS[name]
        array = np.ascontiguousarray(array, dtype).reshape((-1,) + shape[1:])
        if self.out is None:
            self.parts[name].append(array)
            return
        if not len(array):
            return
        if name not in self.files:  # "wb": a retried task starts its files afresh
            self.files[name] = open(self._scratch(name), "wb")
        self.files[name].write(memoryview(array).cast("B"))
        self.rows[name] += len(array)

    def result(self) -> "ShardResult | ShardFile":
        if self.out is None:
            return ShardResult(*(np.concatenate([np.empty(shape, dtype), *self.parts[k]])
                                 for k, (shape, dtype) in self._ARRAYS.items()))
        for fh in self.files.values():
            fh.close()
        with zipfile.ZipFile(self.out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, (shape, dtype) in self._ARRAYS.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array_header_1_0(member, {
                        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                        "shape": (self.rows[name],) + shape[1:]})
                    if name in self.files:
                        with open(self._scratch(name), "rb") as fh:
                            shutil.copyfileobj(fh, member, self._COPY)
        for name in self.files:
            self._scratch(name).unlink()
        return ShardFile(self.out)


class ShardFile:
    """A band task's :class:`ShardResult` left in a ``.npz`` file: each array read when asked
    for, and not kept, so the link step can read the shards' pairs a shard at a time,
    as often as it needs, without holding them (8.9 million pairs with repeats, 1.1
    million distinct, at 100,000 articles of bench_vs_by_hand's corpus)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _read(self, name: str) -> np.ndarray:
        with np.load(self.path) as saved:
            return saved[name]

    @property
    def pairs(self) -> np.ndarray:
        return self._read("pairs")

    @property
    def weights(self) -> np.ndarray:
        return self._read("weights")

    @property
    def anchor_rows(self) -> np.ndarray:
        return self._read("anchor_rows")

    def pair_slices(self, rows: int | None = None):
        """The verified pairs, ``rows`` at a time: read from the file a slice at a time
        (:class:`_Found` stores each array whole and uncompressed), not all at once (18 MB
        for a band file's 1.1 million pairs at 100,000 articles). A file another writer
        left compressed or in Fortran order is read whole."""
        rows = rows or _PAIR_ROWS
        with zipfile.ZipFile(self.path) as z, z.open("pairs.npy") as f:
            header = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}.get(np.lib.format.read_magic(f))
            shape, fortran, dtype = header(f) if header else ((), True, None)
            if fortran or len(shape) != 2 or dtype.hasobject:
                yield self.pairs
                return
            row_bytes = dtype.itemsize * shape[1]
            for lo in range(0, shape[0], rows):
                n = min(rows, shape[0] - lo)
                yield np.frombuffer(f.read(n * row_bytes), dtype).reshape(n, shape[1])


_PAIR_ROWS = 1 << 18  # pairs read at a time from a band file (:meth:`ShardFile.pair_slices`)


def _block_jaccard(store: SketchStore, pages: _FilePages, block: np.ndarray, lo: int, pairs: np.ndarray) -> np.ndarray:
    """``store.jaccard(pairs)`` for the pairs of a block of new items (sorted ``(earlier, later)``,
    every later item in the block), a piece of pairs at a time (:func:`_jaccard_pieces`).
    The later items' signatures are the block's, already copied (``block``, item ``lo``
    first), and so are the earlier ones inside the block (two thirds of the pairs of
    bench_vs_by_hand's 20,000 articles); those before it are read from the files straight
    into the comparison, each piece's pages dropped after it. Gathering both ends copied
    every signature twice per chunk, a third of a band task's CPU; gathering the earlier
    items' distinct signatures first and taking them again per pair (:func:`_gathered`)
    was a third of what remained. The pieces' buffers are reused: fresh ones were page
    faults again for every piece."""
    out = np.empty(len(pairs), np.float32)
    earlier = np.empty((min(len(pairs), _BLOCK_PAIRS), block.shape[1]), block.dtype)
    later, eq = np.empty_like(earlier), np.empty(earlier.shape, bool)
    for a, b, in_block in _jaccard_pieces(pairs[:, 0], lo, store.num_perm * 4):
        piece = pairs[a:b]
        np.take(block, piece[:, 1] - lo, axis=0, out=later[:b - a], mode="clip")  # clip: unbuffered; all in range
        if in_block:
            np.take(block, piece[:, 0] - lo, axis=0, out=earlier[:b - a], mode="clip")
            ends = earlier[:b - a]
        else:
            ends = store.signatures(piece[:, 0])
            pages.drop()
        np.equal(ends, later[:b - a], out=eq[:b - a])
        out[a:b] = share_equal(eq[:b - a])
    return out


def _jaccard_pieces(earlier: np.ndarray, lo: int, row_bytes: int):
    """``(start, stop, in_block)`` pieces of pairs whose sorted ``earlier`` items are given:
    at most ``_BLOCK_PAIRS`` pairs each; those before item ``lo`` (read from the files)
    spanning at most ``_SPAN`` bytes of file, then those inside the block."""
    split = int(np.searchsorted(earlier, lo))
    for a, b in _spans(earlier[:split] * row_bytes, _BLOCK_PAIRS):
        yield a, b, False
    for a in range(split, len(earlier), _BLOCK_PAIRS):
        yield a, min(a + _BLOCK_PAIRS, len(earlier)), True


class LinkedRows:
    """:func:`link_rows`'s answer, ``<id>, cluster_id, similarity`` (and an article's
    ``near_duplicate_of``) of every registered row, as a table a slice at a time
    (:meth:`slice`, as ``pa.Table.slice``), from the index's ids and roots. Whole,
    its two id columns were 40 bytes a row held through the rewrite of the table
    (22 MB at 555,216 quotes), on top of the index that names them."""

    def __init__(self, index: NearDupIndex, pos: np.ndarray) -> None:
        self.index, self.pos = index, pos

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def num_rows(self) -> int:
        return len(self.pos)

    def slice(self, offset: int = 0, length: int | None = None) -> pa.Table:
        pos = self.pos[offset:] if length is None else self.pos[offset:offset + length]
        ids = self.index._all_ids().take(pa.array(pos, pa.int64())) if len(pos) else pa.array([], pa.string())
        return self.index._output(ids, pos)
