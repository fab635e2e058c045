"""The persistent near-duplicate index: signatures, band keys and clusters across runs.

Each index is a few files in the state directory (format 3; ``save`` writes them):

* ``<name>.parquet``: one row per item in processing order (earlier runs
  first): ``id, cluster_id, similarity, n_grams``. ``cluster_id`` is the id
  of the earliest member and never changes.
* ``<name>.sketches/from-<item>.arrow``: signatures and n-gram sets, one file
  per run, memory-mapped (:mod:`ketl.dedup.sketches`).
* ``<name>.bands/band-<b>.parquet``: band ``b``'s keys, sorted
  (:class:`~ketl.dedup.lsh.BandTable`); one file per band, so tasks holding
  different bands update them independently (:mod:`ketl.dedup.distributed`).
* ``<name>.grams/part-<p>.parquet``: the containment n-gram hashes, sorted,
  split into value ranges (:class:`~ketl.dedup.lsh.GramIndex`; none for articles).

Keys and grams are stored sorted so that a run merges its new rows in with
``searchsorted`` instead of re-sorting everything. Format 2 (signatures in the
main table, all bands and all n-grams in one file each) still loads; saving
writes format 3.
Only this module and :mod:`~ketl.dedup.distributed` of :mod:`ketl.dedup` do I/O.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ketl.atomic import atomic_path
from ketl.dedup.lsh import GRAM_PARTS, BandTable, GramIndex, band_keys, cluster_blocks, containment_candidates
from ketl.dedup.minhash import SCHEME, MinHashSettings, signatures
from ketl.dedup.shingles import ShingleSettings, shingle_hashes
from ketl.dedup.sketches import REBUILD, DamagedIndex, SketchStore

__all__ = ["DamagedIndex", "DedupSettings", "NearDupSettings", "QUOTE_SETTINGS", "ARTICLE_SETTINGS", "sketch", "sketch_table",
           "NearDupIndex", "QuoteIndex", "ArticleIndex"]

_META_KEY = b"ketl.dedup.settings"
_FORMAT = 3  # bumped when the stored layout changes
_LEGACY_FORMATS = (2,)  # still loaded


@dataclass(frozen=True)
class DedupSettings:
    unit: str = "char"  # shingle unit for MinHash: "char" or "word"
    n: int = 5  # shingle length in units
    num_perm: int = 128  # MinHash permutations (signature length)
    seed: int = 1  # of the permutations
    bands: int = 32  # LSH bands of `rows` hashes each (bands * rows <= num_perm)
    rows: int = 4  # hashes per band: two texts are candidates when one band is equal
    threshold: float = 0.5  # estimated Jaccard a band candidate must reach
    containment: bool = True  # also join a text contained in another
    containment_n: int = 3  # word n-grams compared for containment
    containment_threshold: float = 0.8  # share of the smaller text's n-grams found in the larger
    containment_min_grams: int = 3  # smaller texts are not matched by containment
    anchors: int = 4  # smallest n-gram hashes used to find containment candidates
    min_anchor_hits: int = 2  # of those, how many the larger text must hold to be verified
    max_anchor_group: int = 64  # n-grams in more texts than this are stock phrases

    @property
    def shingles(self) -> ShingleSettings:
        return ShingleSettings(self.unit, self.n)

    @property
    def minhash(self) -> MinHashSettings:
        return MinHashSettings(self.num_perm, self.seed)


QUOTE_SETTINGS = DedupSettings()
ARTICLE_SETTINGS = DedupSettings(unit="word", n=5, bands=16, rows=8, threshold=0.5,
                                 containment=False)


@dataclass(frozen=True)
class NearDupSettings:
    """``[dedup]`` in ketl.toml: the two indexes' settings, as sub-tables
    (``[dedup.quotes]``, ``[dedup.articles]``, keys of :class:`DedupSettings`).

    Fixed in this version: the stored indexes are built with them and refuse
    other settings, and the run's steps do not pass them on yet, so a value
    other than the default is an error rather than a setting silently ignored.
    """

    quotes: DedupSettings = QUOTE_SETTINGS
    articles: DedupSettings = ARTICLE_SETTINGS

    def __post_init__(self) -> None:
        for name, default in (("quotes", QUOTE_SETTINGS), ("articles", ARTICLE_SETTINGS)):
            given = getattr(self, name)
            for f in dataclasses.fields(DedupSettings):
                if getattr(given, f.name) != getattr(default, f.name):
                    raise ValueError(f"{name}.{f.name} = {getattr(given, f.name)!r}: the near-duplicate "
                                     f"settings are fixed in this version (stored indexes are built with "
                                     f"them); only the default {getattr(default, f.name)!r} is accepted")


def _unique_csr(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort and de-duplicate every set of a CSR array (one sort of ``doc << 32 | value``)."""
    n = len(offsets) - 1
    lens = np.diff(offsets)
    codes = np.repeat(np.arange(n, dtype=np.uint64), lens) << np.uint64(32)
    codes |= values.astype(np.uint64)
    codes.sort()
    keep = np.ones(len(codes), dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    codes = codes[keep]
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount((codes >> np.uint64(32)).astype(np.int64), minlength=n), out=new_off[1:])
    return (codes & np.uint64(0xFFFFFFFF)).astype(np.uint32), new_off


def sketch(texts: Sequence[str], settings: DedupSettings = QUOTE_SETTINGS,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pure: ``(signatures (n, num_perm) uint32, gram values, gram offsets)``.

    The grams (sorted unique word n-gram hashes, CSR) are empty unless
    containment is on.
    """
    sigs = signatures(texts, settings.shingles, settings.minhash)
    if settings.containment:
        gv, go = shingle_hashes(texts, ShingleSettings("word", settings.containment_n))
        gv, go = _unique_csr(gv, go)
    else:
        gv, go = np.empty(0, np.uint32), np.zeros(len(texts) + 1, np.int64)
    return sigs, gv, go


def sketch_table(texts: Sequence[str], settings: DedupSettings = QUOTE_SETTINGS) -> pa.Table:
    """:func:`sketch` as an Arrow table (``signature``, ``grams``), for worker processes."""
    sigs, gv, go = sketch(texts, settings)
    return pa.table({"signature": _fixed(sigs, pa.uint32()),
                     "grams": pa.ListArray.from_arrays(pa.array(go.astype(np.int32)), pa.array(gv))})


def _fixed(arr: np.ndarray, typ: pa.DataType) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(arr.ravel(), type=typ), arr.shape[1])


def _from_fixed(col: pa.ChunkedArray | pa.Array, width: int, dtype) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else pa.array([], type=pa.list_(pa.uint32(), width))
    flat = col.values.to_numpy(zero_copy_only=False)[col.offset * width:(col.offset + len(col)) * width]
    return np.asarray(flat, dtype=dtype).reshape(len(col), width)


def _grams_from_index(path: Path, n: int) -> pa.ListArray:
    """Per-item n-gram sets rebuilt from a stored :class:`GramIndex` (format 2 had no other copy)."""
    codes = pq.read_table(path).column("code").to_numpy().astype(np.uint64)
    codes = (codes << np.uint64(32)) | (codes >> np.uint64(32))  # (item, value): sorts by item
    codes.sort()
    items = (codes >> np.uint64(32)).astype(np.int64)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(items, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array((codes & np.uint64(0xFFFFFFFF)).astype(np.uint32)))


@dataclass(frozen=True)
class IndexPaths:
    main: Path
    bands: Path  # folder: band-<b>.parquet
    grams: Path  # folder: part-<p>.parquet
    sketches: Path  # folder: from-<item>.arrow
    legacy_bands: Path  # format 2: every band in one file
    legacy_grams: Path  # format 2: every n-gram in one file

    def band(self, b: int) -> Path:
        return self.bands / f"band-{b:03d}.parquet"

    def gram_part(self, p: int) -> Path:
        return self.grams / f"part-{p:03d}.parquet"


def write_atomic(table: pa.Table, path: Path, **kwargs) -> None:
    """Write to a temporary name, then rename: never truncates a file that an
    earlier snapshot shares by hard link, and a reader sees all or nothing."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **kwargs)


_READ_ROWS = 65_536  # rows of a stored index's main table read at a time


def _first_positions(values: pa.Array | pa.ChunkedArray, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per value, the position of its first occurrence in ``ids``, -1 where it has none (or is
    null): ``pc.index_in(values, value_set=ids)`` with nulls as -1, as int64.

    The hash table is built over the distinct values, and ``ids`` looked up in it once,
    rather than a table of every id: a stored index's cluster ids name few roots (3,081
    for 545,976 quotes), and a run's new ids are few beside the stored ones (a table of
    every stored id was 32-40 MB at 545,976 quotes). ``values`` may come dictionary-encoded."""
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values], values.type)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    values = values.unify_dictionaries()
    out = np.empty(len(values), np.int64)
    if not len(values):
        return out
    distinct = values.chunk(0).dictionary
    slot = pc.fill_null(pc.index_in(ids, value_set=distinct), -1).to_numpy()  # each id's value, if it is one
    at = np.flatnonzero(slot >= 0)
    first = np.full(len(distinct) + 1, -1, np.int64)  # the last: where a value is null
    first[slot[at[::-1]]] = at[::-1]  # reversed: the first occurrence wins
    del slot, at
    lo = 0
    for chunk in values.chunks:  # a chunk at a time: no int64 copy of every row's dictionary index
        out[lo:lo + len(chunk)] = first[pc.fill_null(chunk.indices, len(distinct)).to_numpy()]
        lo += len(chunk)
    return out


def _positions_in(values: pa.Array | pa.ChunkedArray, ids: pa.Array) -> np.ndarray | None:
    """Per value, the position of its first occurrence in ``ids`` (``pc.index_in(values,
    value_set=ids)``), as int64; None when a value is null or not in ``ids`` (see
    :func:`_first_positions`)."""
    out = _first_positions(values, ids)
    return None if (out < 0).any() else out


class NearDupIndex:
    """Clusters of near-duplicate texts, grown run after run."""

    id_column = "id"
    file_name = "near_dup_index.parquet"
    default_settings = QUOTE_SETTINGS

    def __init__(self, settings: DedupSettings | None = None) -> None:
        s = settings or self.default_settings
        if s.bands * s.rows > s.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")
        self.settings = s
        # Ids are kept in per-run chunks: adding never copies what is stored.
        self._id_chunks: list[pa.Array] = []
        self._n = 0
        self._root = np.empty(0, np.int64)
        self._sim = np.empty(0, np.float32)
        self._lens = np.empty(0, np.int64)
        self._sketches = SketchStore(s.num_perm)
        # None when loaded without them: the bands then live in band tasks' files.
        self._bands: BandTable | None = BandTable(s.bands)
        self._grams: GramIndex | None = GramIndex()

    def __len__(self) -> int:
        return self._n

    def _ids(self) -> pa.ChunkedArray:
        return pa.chunked_array(self._id_chunks, type=pa.string())

    def _all_ids(self) -> pa.Array:
        """Every id as one array, kept as the index's only chunk: ``combine_chunks`` copies even
        one chunk (11 MB at 555,216 quotes), and a take from chunks joins them on every call."""
        if len(self._id_chunks) != 1:
            self._id_chunks = [self._ids().combine_chunks()] if self._n else []
        return self._id_chunks[0] if self._id_chunks else pa.array([], pa.string())

    @classmethod
    def paths(cls, state_dir: Path) -> IndexPaths:
        main = Path(state_dir) / cls.file_name
        stem = main.name.removesuffix(".parquet")
        return IndexPaths(main, main.with_name(stem + ".bands"), main.with_name(stem + ".grams"),
                          main.with_name(stem + ".sketches"), main.with_name(stem + ".bands.parquet"),
                          main.with_name(stem + ".grams.parquet"))

    # -- persistence -------------------------------------------------------------
    @classmethod
    def stored_format(cls, state_dir: Path) -> int | None:
        """The layout version of the index saved in ``state_dir`` (None: there is none)."""
        path = cls.paths(state_dir).main
        if not path.exists():
            return None
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta.get(_META_KEY, b"{}")).get("format")

    @classmethod
    def check(cls, state_dir: Path, settings: DedupSettings | None = None) -> None:
        """Raise :class:`DamagedIndex` unless the stored index can be read.

        Cheap (metadata and memory maps, no data read), so a run can check
        before it starts anything.
        """
        p = cls.paths(state_dir)
        if not p.main.exists():
            return
        try:
            schema, n = pq.read_schema(p.main), pq.read_metadata(p.main).num_rows
        except (OSError, pa.ArrowInvalid) as exc:
            raise DamagedIndex(f"{p.main}: cannot be read ({exc}); {REBUILD}") from None
        s = settings or cls.default_settings
        stored = json.loads((schema.metadata or {}).get(_META_KEY, b"{}"))
        if (stored.get("settings") != dataclasses.asdict(s) or stored.get("scheme") != SCHEME
                or stored.get("format") not in (_FORMAT, *_LEGACY_FORMATS)):
            raise DamagedIndex(f"{p.main} was built with other settings or layout ({stored}); {REBUILD}")
        if stored.get("format") == _FORMAT:
            SketchStore.open(p.sketches, s.num_perm, upto=n)

    @classmethod
    def load(cls, state_dir: Path, settings: DedupSettings | None = None, *, bands: bool = True,
             grams: bool = True) -> "NearDupIndex":
        """The index saved in ``state_dir``; empty when there is none yet.

        Signatures are memory-mapped, not read. ``bands=False`` / ``grams=False``
        leave out the band keys / containment n-grams (then :meth:`add` is
        not available): what the distributed steps' coordinator needs.
        """
        index = cls(settings)
        if not bands:
            index._bands = None
        if not grams:
            index._grams = None
        p = cls.paths(state_dir)
        if not p.main.exists():
            return index
        # The columns one at a time, on this thread, and cluster_id as the file keeps it (a
        # dictionary of the roots): the whole table read at once, cluster_id as strings and
        # its look-up in a hash table of every id took 177 MiB at 545,976 quotes (25 MB kept).
        with pq.ParquetFile(p.main, read_dictionary=["cluster_id"]) as main:  # closed on a DamagedIndex too
            stored = json.loads((main.schema_arrow.metadata or {}).get(_META_KEY, b"{}"))
            fmt = stored.get("format")
            if (stored.get("settings") != dataclasses.asdict(index.settings) or stored.get("scheme") != SCHEME
                    or fmt not in (_FORMAT, *_LEGACY_FORMATS)):
                raise DamagedIndex(f"{p.main} was built with other settings or layout ({stored}); {REBUILD}")
            s = index.settings
            column = lambda name: main.read(columns=[name], use_threads=False).column(0)  # noqa: E731
            # read a batch at a time and joined: one read of the whole column grew its buffers by
            # doubling, and the pool kept every size (+72 MiB for 20 MB of ids at 545,976 quotes)
            ids = pa.chunked_array([b.column(0) for b in main.iter_batches(_READ_ROWS, columns=["id"], use_threads=False)],
                                   main.schema_arrow.field("id").type).combine_chunks()
            index._n = len(ids)
            if index._n:
                index._id_chunks = [ids]
            root = _positions_in(column("cluster_id"), ids)
            if root is None:
                raise DamagedIndex(f"{p.main}: a cluster_id is not an indexed id; {REBUILD}")
            index._root = root
            index._sim = column("similarity").to_numpy().astype(np.float32)
            index._lens = column("n_grams").to_numpy().astype(np.int64)
            if fmt == _FORMAT:
                index._sketches = SketchStore.open(p.sketches, s.num_perm, upto=index._n)
            elif index._n:  # format 2: signatures (and bands) inline; saving converts
                sigs = _from_fixed(column("signature"), s.num_perm, np.uint32)
                index._sketches.append(sigs, _grams_from_index(p.legacy_grams, index._n) if s.containment else None)
        if index._bands is not None:
            if fmt == _FORMAT:
                for b in range(s.bands):
                    if p.band(b).exists():
                        index._bands.load_band(b, pq.read_table(p.band(b)))
            else:
                index._bands = BandTable.from_table(pq.read_table(p.legacy_bands), s.bands)
        if index._grams is not None and s.containment:
            if fmt == _FORMAT:
                # Value ranges in order: the concatenation is sorted.
                parts = [pq.read_table(p.gram_part(k)) for k in range(GRAM_PARTS) if p.gram_part(k).exists()]
                if parts:
                    index._grams = GramIndex.from_table(pa.concat_tables(parts))
            else:
                index._grams = GramIndex.from_table(pq.read_table(p.legacy_grams))
        return index

    def to_table(self) -> pa.Table:
        ids = self._all_ids()
        table = pa.table({
            "id": ids,
            "cluster_id": ids.take(pa.array(self._root)),
            "similarity": pa.array(self._sim, type=pa.float32()),
            "n_grams": pa.array(self._lens.astype(np.int32), type=pa.int32()),
        })
        meta = {"settings": dataclasses.asdict(self.settings), "scheme": SCHEME, "format": _FORMAT}
        return table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})

    def save(self, state_dir: Path) -> Path:
        """Write the index in ``state_dir``; returns the main file.

        Every file is written under a temporary name and renamed, and stored
        sketch files are only added, so saving over the folder the index was
        loaded from is safe; the caller makes a whole-folder swap atomic.
        """
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        p = self.paths(state_dir)
        self._sketches.write_new(p.sketches)
        if self._bands is not None:
            p.bands.mkdir(exist_ok=True)
            for b in range(self.settings.bands):
                write_atomic(self._bands.band_to_table(b), p.band(b), use_dictionary=False)
        if self._grams is not None and self.settings.containment:
            p.grams.mkdir(exist_ok=True)
            for k in range(GRAM_PARTS):
                write_atomic(self._grams.part(k).to_table(), p.gram_part(k), use_dictionary=False)
        # Written last: an index whose main file names format 3 has all its parts.
        write_atomic(self.to_table(), p.main, use_dictionary=["id", "cluster_id"])
        return p.main

    # -- queries -----------------------------------------------------------------
    def cluster_sizes(self) -> pa.Table:
        """``cluster_id, cluster_size`` over everything indexed so far."""
        roots, counts = np.unique(self._root, return_counts=True)
        return pa.table({"cluster_id": self._all_ids().take(pa.array(roots, pa.int64())),
                         "cluster_size": pa.array(counts, pa.int64())})

    def live_clusters(self, ids: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        """``cluster_id, cluster_size`` of each of ``ids`` counting only ``ids``.

        Items stay in the index when their rows are replaced (a re-read file),
        so a cluster may hold dead members, its root among them. Here a
        cluster is named by its earliest member still in ``ids`` and sized by
        those members: no row ever points at a removed one. Ids not indexed
        get nulls.
        """
        return self.live_names(*self.live_roots(ids))

    def live_roots(self, ids: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`live_clusters` as numbers: per id, the item that names its cluster (-1:
        not indexed) and the cluster's size; :meth:`live_names` turns any slice of them
        into the columns. 12 bytes a row, where the names are 20 and more (a rewrite of
        the quotes table holds them for every row)."""
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        known = self._all_ids()
        if len(ids) == self._n and ids.equals(known):  # a first run's table: row k is item k
            return self.item_order_roots()
        item = np.full(len(ids), -1, np.int64)
        size = np.zeros(len(ids), np.int32)
        where = pc.index_in(ids, value_set=known)
        valid = np.asarray(pc.is_valid(where).to_numpy(zero_copy_only=False), bool)
        pos = pc.fill_null(where, 0).to_numpy().astype(np.int64)[valid]
        del where
        if len(pos):
            roots = self._root[pos]  # item numbers: arrays indexed by them, no sort
            earliest = np.full(self._n, self._n, np.int64)
            np.minimum.at(earliest, roots, pos)
            counts = np.bincount(roots, minlength=self._n).astype(np.int32)
            item[valid] = earliest[roots]
            size[valid] = counts[roots]
        return item, size

    def in_item_order(self, slices: Iterable[pa.Array | pa.ChunkedArray]) -> bool:
        """Whether ``slices``, one after the other, are every indexed id in item order (row k
        is item k): then :meth:`item_order_roots` is :meth:`live_roots` of their concatenation.
        A first run's quotes table is, and so is a stored table with the run's new rows
        after it when no stored row was replaced. Checked a slice at a time, so the caller
        need not hold every id (20 MB at 555,216 quotes, and its hash table 40 MB more)."""
        known, at = self._all_ids(), 0
        for ids in slices:
            ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
            if at + len(ids) > self._n or not ids.equals(known.slice(at, len(ids))):
                return False
            at += len(ids)
        return at == self._n

    def item_order_roots(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`live_roots` of every indexed id in item order (:meth:`in_item_order`). Every
        member is live: a cluster's earliest live member is its root, the earliest member
        (no hash table of every id: 40 MB at 555,216 quotes)."""
        return self._root, np.bincount(self._root, minlength=self._n).astype(np.int32)[self._root]

    def live_names(self, item: np.ndarray, size: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """``cluster_id, cluster_size`` columns of rows given by :meth:`live_roots` (nulls where
        ``item`` is -1)."""
        unknown = item < 0
        if unknown.all():
            return pa.nulls(len(item), pa.string()), pa.nulls(len(item), pa.int32())
        mask = unknown if unknown.any() else None
        names = self._all_ids().take(pa.array(item, pa.int64(), mask=mask))
        return names, pa.array(size, pa.int32(), mask=mask)

    def drop_sketches(self) -> None:
        """Unmap the signatures and n-gram sets: what the cluster step keeps after linking
        needs only ids and roots, and the pages the link step read (every new item's
        signature, 512 bytes each) stayed resident in the worker until the step ended."""
        self._sketches = SketchStore(self.settings.num_perm)
        self._bands = self._grams = None

    def signatures(self, items: np.ndarray) -> np.ndarray:
        """Stored signatures of ``items`` (row numbers in processing order)."""
        return self._sketches.signatures(items)

    # -- adding ------------------------------------------------------------------
    def add(self, table: pa.Table) -> pa.Table:
        """Index new rows; return ``<id>, cluster_id, similarity`` for every input row.

        ``table`` has the id column and either ``text`` or the ``signature``
        (and, with containment, ``grams``) columns of :func:`sketch_table`.
        Rows are in processing order. An id indexed before (or earlier in the
        same table) keeps its cluster.
        """
        ids = self._id_array(table)
        pos, new_rows, new_ids = self._positions(ids)
        if len(new_rows):
            if self._bands is None or self._grams is None:
                raise ValueError("this index was loaded without its bands or n-grams: add() needs them")
            sub = table.take(pa.array(new_rows, pa.int64()))
            if "signature" in table.column_names:
                sigs = _from_fixed(sub.column("signature"), self.settings.num_perm, np.uint32)
                grams = sub.column("grams").combine_chunks() if self.settings.containment else None
            else:
                sigs, gv, go = sketch([t or "" for t in sub.column("text").to_pylist()], self.settings)
                grams = pa.ListArray.from_arrays(pa.array(go.astype(np.int32)), pa.array(gv, pa.uint32()))
            s = self.settings
            n_old = self._n
            self._append(new_ids, sigs, grams if s.containment else None)
            pairs = self._bands.add(band_keys(sigs, s.bands, s.rows), n_old)
            extra = None
            if s.containment:
                gv, go = self._sketches.grams(n_old, self._n)
                a, b = self._grams.add_raw(gv, go, n_old, s.anchors, s.containment_min_grams, s.max_anchor_group)
                extra = self._contained(containment_candidates(a, b, self._lens, s.min_anchor_hits))
            verified = self.verify(pairs)
            self._link(n_old, lambda: [verified], extra)
        return self._output(ids, pos)

    def _id_array(self, table: pa.Table) -> pa.Array:
        ids = pc.cast(table.column(self.id_column), pa.string()).combine_chunks()
        if ids.null_count:
            raise ValueError(f"{self.id_column} has nulls: every row needs an id")
        return ids

    def _positions(self, ids: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """Item number of every row, the rows that are new, and the new ids in item order.

        Per-row arrays only (a run's register step holds them for every quote: 555,216 at
        100,000 articles of bench_vs_by_hand's corpus): no copy of the ids when all are new
        and distinct, and the new ids numbered by a sort (:func:`_first_appearance`).
        """
        n_old = self._n
        unknown = None  # every row
        pos = None
        if n_old:
            where = _first_positions(ids, self._ids())  # no hash table of every stored id
            if (where >= 0).any():
                pos = where
                unknown = np.flatnonzero(pos < 0)
            del where
        if unknown is not None and not len(unknown):
            return pos, np.empty(0, np.int64), pa.array([], pa.string())
        sub = ids if unknown is None else ids.take(pa.array(unknown))
        code, first = _first_appearance(sub)
        new_ids = sub if len(first) == len(sub) else sub.take(pa.array(first))
        code += n_old
        if unknown is None:
            return code, first, new_ids
        pos[unknown] = code
        return pos, unknown[first], new_ids

    def _append(self, new_ids: pa.Array, sigs: np.ndarray, grams: pa.ListArray | None) -> None:
        self._id_chunks.append(new_ids)
        self._sketches.append(sigs, grams)
        self._n += len(new_ids)
        lens = np.diff(grams.offsets.to_numpy()) if grams is not None else np.zeros(len(new_ids), np.int64)
        self._lens = np.concatenate((self._lens, lens.astype(np.int64)))

    def verify(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Band candidates whose estimated Jaccard reaches the threshold, with it."""
        weights = self._sketches.jaccard(pairs)
        ok = weights >= self.settings.threshold
        return pairs[ok], weights[ok]

    def _output(self, ids: pa.Array, pos: np.ndarray) -> pa.Table:
        return pa.table({
            self.id_column: ids,
            "cluster_id": self._all_ids().take(pa.array(self._root[pos], pa.int64()))
            if len(pos) else pa.array([], pa.string()),
            "similarity": pa.array(self._sim[pos], pa.float32()),
        })

    def _contained(self, cpairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The containment candidates ``(smaller, larger)`` whose share of the smaller set
        found in the larger reaches the threshold: ``(pairs (earlier, later), shares)``.
        Set intersections are read from the sketch store: only the pairs' sets."""
        if not len(cpairs):
            return _NO_EXTRA
        c = _intersections(self._sketches, cpairs) / np.maximum(self._lens[cpairs[:, 0]], 1)
        ok = c >= self.settings.containment_threshold
        return np.sort(cpairs[ok], axis=1), c[ok].astype(np.float32)

    def _link(self, n_old: int, band: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
              extra: tuple[np.ndarray, np.ndarray] | None, release: Callable[[], None] = lambda: None,
              band_pairs: Callable[[], Iterable[np.ndarray]] | None = None) -> None:
        """Cluster items ``n_old ..`` (already appended) given their verified band
        pairs and their verified containment pairs ``extra`` (:meth:`_contained`).

        ``band()`` yields the verified band pairs and their weights a block at a time
        (one block in process; the band tasks' files in a run, read as they are
        needed: :func:`~ketl.dedup.lsh.cluster_blocks`); ``band_pairs()``, the same pairs
        without their weights, for the passes that need none. Finds components and each
        new item's similarity to its cluster's root. ``release()`` follows each phase
        (the run returns freed memory to the system: each phase's peak was laid on the
        last one's freed pages).
        """
        n = self._n
        roots = cluster_blocks(n, n_old, self._root, band, extra or _NO_EXTRA, band_pairs)
        del extra
        release()
        sim = np.ones(n - n_old, dtype=np.float32)
        joined = np.flatnonzero(roots != np.arange(n_old, n))
        # A block of joined items at a time: the measures' temporaries for every joined
        # item at once were the cluster step's peak at 100,000 articles (552,029 of them).
        for lo in range(0, len(joined), _SIM_BLOCK):
            items = joined[lo:lo + _SIM_BLOCK]
            sim[items] = self._similarity(np.stack((roots[items], items + n_old), axis=1))
        self._root = np.concatenate((self._root, roots))
        self._sim = np.concatenate((self._sim, sim))

    def _similarity(self, canon: np.ndarray) -> np.ndarray:
        """Each (root, member) pair's similarity: estimated Jaccard, or with containment on
        the share of the smaller set found in the larger when that is higher."""
        s = self.settings
        sim = self._sketches.jaccard(canon)
        if not s.containment:
            return sim
        smaller = np.minimum(self._lens[canon[:, 0]], self._lens[canon[:, 1]])
        c = _intersections(self._sketches, canon) / np.maximum(smaller, 1)
        c[smaller < s.containment_min_grams] = 0
        return np.maximum(sim, c)


_PAIR_BLOCK = 1 << 16
_SIM_BLOCK = 1 << 17  # joined items whose similarity to their root is measured at a time
_NO_EXTRA = (np.empty((0, 2), np.int64), np.empty(0, np.float32))


def _first_appearance(ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the rank of its id among the distinct ids in order of first appearance, and
    each distinct id's first row (ascending): ``dictionary_encode``'s indices, from a sort.
    The encoder's hash table and dictionary were the register step's growth (+81 MiB at
    555,216 quote ids); the sort holds its order and one copy of the ids (+0.1 s CPU there)."""
    n = len(ids)
    order = pc.sort_indices(ids).to_numpy().astype(np.int64)
    ordered = ids.take(pa.array(order))
    start = np.ones(n, bool)
    if n > 1:
        start[1:] = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    del ordered
    if start.all():  # every id distinct (a first run): row k is the k-th
        return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    starts = np.flatnonzero(start)
    first = np.minimum.reduceat(order, starts)  # each distinct id's earliest row
    by_first = np.argsort(first)
    rank = np.empty(len(starts), np.int64)
    rank[by_first] = np.arange(len(starts))
    code = np.empty(n, np.int64)
    code[order] = rank[np.cumsum(start) - 1]
    return code, first[by_first]


def _intersections(store: SketchStore, pairs: np.ndarray) -> np.ndarray:
    """Exact n-gram intersection sizes of ``pairs``, a block of pairs at a time: both
    sides' sets are expanded and sorted together, which for every candidate of
    a 100,000-article run at once took memory proportional to the run."""
    if len(pairs) <= _PAIR_BLOCK:
        return store.intersection_sizes(pairs)
    return np.concatenate([store.intersection_sizes(pairs[s:s + _PAIR_BLOCK])
                           for s in range(0, len(pairs), _PAIR_BLOCK)])


def merge_pairs(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Union of verified ``(pairs, weights)`` from tasks holding different bands, sorted.

    A pair found in several bands has the same weight everywhere, so the
    result equals verifying the distinct pairs of all bands at once.
    """
    pairs = np.concatenate([p for p, _ in parts]) if parts else np.empty((0, 2), np.int64)
    weights = np.concatenate([w for _, w in parts]) if parts else np.empty(0, np.float32)
    if not len(pairs):
        return np.empty((0, 2), np.int64), np.empty(0, np.float32)
    m = np.int64(pairs.max() + 1)
    codes, first = np.unique(pairs[:, 0].astype(np.int64) * m + pairs[:, 1], return_index=True)
    return np.stack((codes // m, codes % m), axis=1), weights[first]


class QuoteIndex(NearDupIndex):
    """Quotes: ``add(table(quote_id, doc_id, text))`` -> ``quote_id, cluster_id, similarity``."""

    id_column = "quote_id"
    file_name = "quote_index.parquet"
    default_settings = QUOTE_SETTINGS


class ArticleIndex(NearDupIndex):
    """Whole articles (word 5-grams, 128 perms).

    ``add(table(doc_id, text))`` -> ``doc_id, cluster_id, similarity,
    near_duplicate_of`` (the earliest near-duplicate's doc_id, null if none).
    """

    id_column = "doc_id"
    file_name = "article_index.parquet"
    default_settings = ARTICLE_SETTINGS

    def earliest_live(self, ids: pa.Array | pa.ChunkedArray, dead: pa.Array) -> pa.Array:
        """``near_duplicate_of`` of each of ``ids`` when the ``dead`` items' rows are gone.

        The earliest member of the cluster whose row still exists, null when
        that is the article itself (or the id is not indexed): a replaced
        article is never pointed at.
        """
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        known = self._all_ids()
        alive = np.ones(self._n, bool)
        gone = pc.index_in(dead, value_set=known)
        alive[pc.drop_null(gone).to_numpy().astype(np.int64)] = False
        first = np.full(self._n, self._n, np.int64)  # per root: its earliest live member
        members = np.flatnonzero(alive)
        np.minimum.at(first, self._root[members], members)
        where = pc.index_in(ids, value_set=known)
        valid = np.asarray(pc.is_valid(where).to_numpy(zero_copy_only=False), bool)
        pos = pc.fill_null(where, 0).to_numpy().astype(np.int64)
        earliest = np.where(valid, first[self._root[pos]] if self._n else pos, self._n)
        own = (earliest >= self._n) | (earliest == pos)
        names = known.take(pa.array(np.where(own, 0, earliest))) if self._n else pa.nulls(len(ids), pa.string())
        return pc.if_else(pa.array(own), pa.scalar(None, pa.string()), names)

    def _output(self, ids: pa.Array, pos: np.ndarray) -> pa.Table:
        out = super()._output(ids, pos)
        cid = out.column("cluster_id")
        dup = pc.if_else(pc.equal(cid, out.column("doc_id")), pa.scalar(None, pa.string()), cid)
        return out.append_column("near_duplicate_of", dup)
