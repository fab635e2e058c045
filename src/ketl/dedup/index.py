"""The persistent near-duplicate index: signatures, band keys and clusters across runs.

Three Parquet files per index in the state directory (``save`` writes them all):

* ``<name>.parquet``: one row per item in processing order (earlier runs
  first): ``id, cluster_id, similarity, signature, n_grams``. ``cluster_id``
  is the id of the earliest member and never changes.
* ``<name>.bands.parquet``: the band keys, sorted (:class:`~ketl.dedup.lsh.BandTable`).
* ``<name>.grams.parquet``: the containment n-gram hashes, sorted
  (:class:`~ketl.dedup.lsh.GramIndex`; empty for articles).

Keys and grams are stored sorted so that a run merges its new rows in with
``searchsorted`` instead of re-sorting everything. This is the only module of
:mod:`ketl.dedup` that does I/O.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ketl.dedup.lsh import BandTable, GramIndex, band_keys, cluster
from ketl.dedup.minhash import SCHEME, MinHashSettings, signatures
from ketl.dedup.shingles import ShingleSettings, shingle_hashes

__all__ = ["DedupSettings", "QUOTE_SETTINGS", "ARTICLE_SETTINGS", "sketch", "sketch_table",
           "NearDupIndex", "QuoteIndex", "ArticleIndex"]

_META_KEY = b"ketl.dedup.settings"
_FORMAT = 2  # bumped when the stored layout changes


@dataclass(frozen=True)
class DedupSettings:
    unit: str = "char"  # shingle unit for MinHash: "char" or "word"
    n: int = 5  # shingle length in units
    num_perm: int = 128
    seed: int = 1
    bands: int = 32
    rows: int = 4
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


def _from_list(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else pa.array([], type=pa.list_(pa.uint32()))
    off = col.offsets.to_numpy().astype(np.int64)
    vals = col.values.to_numpy(zero_copy_only=False).astype(np.uint32)
    return vals[off[0]:off[-1]], off - off[0]


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
        # Ids and signatures are kept in per-run chunks: adding never copies what is stored.
        self._id_chunks: list[pa.Array] = []
        self._sig_chunks: list[np.ndarray] = []
        self._sig_starts: list[int] = []
        self._n = 0
        self._root = np.empty(0, np.int64)
        self._sim = np.empty(0, np.float32)
        self._lens = np.empty(0, np.int64)
        self._bands = BandTable(s.bands)
        self._grams = GramIndex()

    def __len__(self) -> int:
        return self._n

    def _ids(self) -> pa.ChunkedArray:
        return pa.chunked_array(self._id_chunks, type=pa.string())

    @classmethod
    def _paths(cls, state_dir: Path) -> tuple[Path, Path, Path]:
        main = Path(state_dir) / cls.file_name
        stem = main.name.removesuffix(".parquet")
        return main, main.with_name(stem + ".bands.parquet"), main.with_name(stem + ".grams.parquet")

    # -- persistence -------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: Path, settings: DedupSettings | None = None) -> "NearDupIndex":
        """The index saved in ``state_dir``; empty when there is none yet."""
        index = cls(settings)
        path, bands_path, grams_path = cls._paths(state_dir)
        if not path.exists():
            return index
        table = pq.read_table(path)
        stored = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
        if (stored.get("settings") != dataclasses.asdict(index.settings) or stored.get("scheme") != SCHEME
                or stored.get("format") != _FORMAT):
            raise ValueError(f"{path} was built with other settings or layout: {stored}; rebuild it")
        s = index.settings
        ids = table.column("id").combine_chunks()
        index._n = len(ids)
        if index._n:
            index._id_chunks = [ids]
            index._sig_chunks = [_from_fixed(table.column("signature"), s.num_perm, np.uint32)]
            index._sig_starts = [0]
        root = pc.index_in(table.column("cluster_id"), value_set=ids)
        if root.null_count:
            raise ValueError(f"{path}: a cluster_id is not an indexed id")
        index._root = root.to_numpy().astype(np.int64)
        index._sim = table.column("similarity").to_numpy().astype(np.float32)
        index._lens = table.column("n_grams").to_numpy().astype(np.int64)
        index._bands = BandTable.from_table(pq.read_table(bands_path), s.bands)
        index._grams = GramIndex.from_table(pq.read_table(grams_path))
        return index

    def to_table(self) -> pa.Table:
        ids = self._ids()
        sig_type = pa.list_(pa.uint32(), self.settings.num_perm)
        table = pa.table({
            "id": ids,
            "cluster_id": ids.take(pa.array(self._root)),
            "similarity": pa.array(self._sim, type=pa.float32()),
            "signature": pa.chunked_array([_fixed(c, pa.uint32()) for c in self._sig_chunks], type=sig_type),
            "n_grams": pa.array(self._lens.astype(np.int32), type=pa.int32()),
        })
        meta = {"settings": dataclasses.asdict(self.settings), "scheme": SCHEME, "format": _FORMAT}
        return table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})

    def save(self, state_dir: Path) -> Path:
        """Write the index's three Parquet files in ``state_dir``; returns the main one.

        The caller makes the directory swap atomic.
        """
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        path, bands_path, grams_path = self._paths(state_dir)
        # Hash columns are random: dictionary pages only cost time (measured 2x slower saves).
        pq.write_table(self.to_table(), path, use_dictionary=["id", "cluster_id"])
        pq.write_table(self._bands.to_table(), bands_path, use_dictionary=["band"])
        pq.write_table(self._grams.to_table(), grams_path, use_dictionary=False)
        return path

    # -- queries -----------------------------------------------------------------
    def cluster_sizes(self) -> pa.Table:
        """``cluster_id, cluster_size`` over everything indexed so far."""
        roots, counts = np.unique(self._root, return_counts=True)
        return pa.table({"cluster_id": self._ids().take(pa.array(roots, pa.int64())).combine_chunks(),
                         "cluster_size": pa.array(counts, pa.int64())})

    def _signatures(self, items: np.ndarray) -> np.ndarray:
        """Stored signatures of ``items`` (row numbers), gathered across chunks."""
        if len(self._sig_chunks) == 1:
            return self._sig_chunks[0][items]
        out = np.empty((len(items), self.settings.num_perm), np.uint32)
        chunk = np.searchsorted(self._sig_starts, items, side="right") - 1
        for c, (start, sigs) in enumerate(zip(self._sig_starts, self._sig_chunks)):
            sel = chunk == c
            out[sel] = sigs[items[sel] - start]
        return out

    def _jaccard(self, pairs: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
        out = np.empty(len(pairs), dtype=np.float32)
        for s in range(0, len(pairs), chunk):
            p = pairs[s:s + chunk]
            out[s:s + chunk] = (self._signatures(p[:, 0]) == self._signatures(p[:, 1])).mean(axis=1)
        return out

    # -- adding ------------------------------------------------------------------
    def add(self, table: pa.Table) -> pa.Table:
        """Index new rows; return ``<id>, cluster_id, similarity`` for every input row.

        ``table`` has the id column and either ``text`` or the ``signature``
        (and, with containment, ``grams``) columns of :func:`sketch_table`.
        Rows are in processing order. An id indexed before (or earlier in the
        same table) keeps its cluster.
        """
        idc = self.id_column
        ids = pc.cast(table.column(idc), pa.string()).combine_chunks()
        if ids.null_count:
            raise ValueError(f"{idc} has nulls: every row needs an id")
        n_old = self._n
        if n_old:
            pos = pc.index_in(ids, value_set=self._ids())
            known = pos.is_valid().to_numpy(zero_copy_only=False)
            pos = pos.fill_null(-1).to_numpy().astype(np.int64)
        else:
            known = np.zeros(len(ids), bool)
            pos = np.full(len(ids), -1, np.int64)
        unknown = np.flatnonzero(~known)
        if len(unknown):
            # Dictionary indices follow first appearance: new row k is the k-th distinct new id.
            enc = pc.dictionary_encode(ids.take(pa.array(unknown)))
            code = enc.indices.to_numpy().astype(np.int64)
            _, first = np.unique(code, return_index=True)
            new_rows = unknown[first]
            pos[unknown] = n_old + code
            sub = table.take(pa.array(new_rows, pa.int64()))
            if "signature" in table.column_names:
                sigs = _from_fixed(sub.column("signature"), self.settings.num_perm, np.uint32)
                if self.settings.containment:
                    gv, go = _from_list(sub.column("grams"))
                else:
                    gv, go = np.empty(0, np.uint32), np.zeros(len(new_rows) + 1, np.int64)
            else:
                texts = [t or "" for t in sub.column("text").to_pylist()]
                sigs, gv, go = sketch(texts, self.settings)
            self._add_sketches(enc.dictionary, sigs, gv, go)
        all_ids = self._ids()
        return pa.table({
            idc: ids,
            "cluster_id": all_ids.take(pa.array(self._root[pos], pa.int64())).combine_chunks()
            if len(pos) else pa.array([], pa.string()),
            "similarity": pa.array(self._sim[pos], pa.float32()),
        })

    def _add_sketches(self, new_ids: pa.Array, sigs: np.ndarray, gv: np.ndarray,
                      go: np.ndarray) -> None:
        s = self.settings
        n_old = self._n
        n_new = len(new_ids)
        n = n_old + n_new
        self._id_chunks.append(new_ids)
        self._sig_chunks.append(np.ascontiguousarray(sigs, dtype=np.uint32))
        self._sig_starts.append(n_old)
        self._n = n
        self._lens = np.concatenate((self._lens, np.diff(go)))
        pairs = self._bands.add(band_keys(sigs, s.bands, s.rows), n_old)
        weights = self._jaccard(pairs)
        ok = weights >= s.threshold
        pairs, weights = pairs[ok], weights[ok]
        if s.containment:
            cpairs = self._grams.add(gv, go, n_old, self._lens, s.anchors, s.containment_min_grams,
                                     s.max_anchor_group, s.min_anchor_hits)
            if len(cpairs):
                c = self._intersections(gv, go, n_old, cpairs) / np.maximum(self._lens[cpairs[:, 0]], 1)
                ok = c >= s.containment_threshold
                pairs = np.concatenate((pairs, np.sort(cpairs[ok], axis=1)))
                weights = np.concatenate((weights, c[ok].astype(np.float32)))
        roots = cluster(n, n_old, self._root, pairs, weights)
        sim = np.ones(n_new, dtype=np.float32)
        joined = np.flatnonzero(roots != np.arange(n_old, n))
        if len(joined):
            canon = np.stack((roots[joined], joined + n_old), axis=1)
            sim[joined] = self._jaccard(canon)
            if s.containment:
                lens = self._lens
                smaller = np.minimum(lens[canon[:, 0]], lens[canon[:, 1]])
                c = self._intersections(gv, go, n_old, canon) / np.maximum(smaller, 1)
                c[smaller < s.containment_min_grams] = 0
                sim[joined] = np.maximum(sim[joined], c)
        self._root = np.concatenate((self._root, roots))
        self._sim = np.concatenate((self._sim, sim))

    def _intersections(self, gv: np.ndarray, go: np.ndarray, n_old: int, pairs: np.ndarray) -> np.ndarray:
        """Set intersection sizes for pairs with at least one new item (probed from the new side)."""
        # Probe from a new item; from the smaller one when both are new.
        lens = self._lens
        second = (pairs[:, 0] < n_old) | (lens[pairs[:, 1]] < lens[pairs[:, 0]])
        second_new = second & (pairs[:, 1] >= n_old)
        probe = np.where(second_new, pairs[:, 1], pairs[:, 0])
        other = np.where(second_new, pairs[:, 0], pairs[:, 1])
        return self._grams.intersection_sizes(gv, go, n_old, probe, other)


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

    def add(self, table: pa.Table) -> pa.Table:
        out = super().add(table)
        cid = out.column("cluster_id")
        dup = pc.if_else(pc.equal(cid, out.column("doc_id")), pa.scalar(None, pa.string()), cid)
        return out.append_column("near_duplicate_of", dup)
