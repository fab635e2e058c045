"""The persistent near-duplicate index: signatures, band keys and clusters across runs.

One Parquet file per index in the state directory, rows in processing order
(earlier runs first): ``id, cluster_id, similarity, signature, band_keys,
grams``. ``cluster_id`` is the id of the earliest member and never changes.
This is the only module of :mod:`ketl.dedup` that does I/O.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ketl.dedup.lsh import (band_keys, cluster, containment_candidates, estimated_jaccard,
                            intersection_sizes, lsh_candidates)
from ketl.dedup.minhash import SCHEME, MinHashSettings, signatures_from_hashes
from ketl.dedup.shingles import ShingleSettings, shingle_hashes

__all__ = ["DedupSettings", "QUOTE_SETTINGS", "ARTICLE_SETTINGS", "sketch", "sketch_table",
           "NearDupIndex", "QuoteIndex", "ArticleIndex"]

_META_KEY = b"ketl.dedup.settings"


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
    anchors: int = 2  # smallest n-gram hashes used to find containment candidates
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
    """Sort and de-duplicate every set of a CSR array."""
    n = len(offsets) - 1
    lens = np.diff(offsets)
    doc = np.repeat(np.arange(n), lens)
    order = np.lexsort((values, doc))
    v, d = values[order], doc[order]
    keep = np.ones(len(v), dtype=bool)
    keep[1:] = (v[1:] != v[:-1]) | (d[1:] != d[:-1])
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(d[keep], minlength=n), out=new_off[1:])
    return v[keep], new_off


def sketch(texts: Sequence[str], settings: DedupSettings = QUOTE_SETTINGS,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pure: ``(signatures (n, num_perm) uint32, gram values, gram offsets)``.

    The grams (sorted unique word n-gram hashes, CSR) are empty unless
    containment is on.
    """
    hashes, offsets = shingle_hashes(texts, settings.shingles)
    sigs = signatures_from_hashes(hashes, offsets, settings.minhash)
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
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._sigs = np.empty((0, s.num_perm), np.uint32)
        self._keys = np.empty((0, s.bands), np.uint64)
        self._root = np.empty(0, np.int64)
        self._sim = np.empty(0, np.float32)
        self._gv = np.empty(0, np.uint32)
        self._go = np.zeros(1, np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    # -- persistence -------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: Path, settings: DedupSettings | None = None) -> "NearDupIndex":
        """The index saved in ``state_dir``; empty when there is none yet."""
        index = cls(settings)
        path = Path(state_dir) / cls.file_name
        if not path.exists():
            return index
        table = pq.read_table(path)
        stored = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
        if stored.get("settings") != dataclasses.asdict(index.settings) or stored.get("scheme") != SCHEME:
            raise ValueError(f"{path} was built with other settings: {stored}; rebuild it")
        s = index.settings
        index._ids = table.column("id").to_pylist()
        index._pos = {k: i for i, k in enumerate(index._ids)}
        index._sigs = _from_fixed(table.column("signature"), s.num_perm, np.uint32)
        index._keys = _from_fixed(table.column("band_keys"), s.bands, np.uint64)
        index._root = np.fromiter((index._pos[c] for c in table.column("cluster_id").to_pylist()),
                                  dtype=np.int64, count=len(index._ids))
        index._sim = table.column("similarity").to_numpy().astype(np.float32)
        index._gv, index._go = _from_list(table.column("grams"))
        return index

    def to_table(self) -> pa.Table:
        ids = pa.array(self._ids, type=pa.string())
        table = pa.table({
            "id": ids,
            "cluster_id": pa.array([self._ids[r] for r in self._root.tolist()], type=pa.string()),
            "similarity": pa.array(self._sim, type=pa.float32()),
            "signature": _fixed(self._sigs, pa.uint32()),
            "band_keys": _fixed(self._keys, pa.uint64()),
            "grams": pa.ListArray.from_arrays(pa.array(self._go.astype(np.int64), pa.int64()),
                                              pa.array(self._gv, pa.uint32())).cast(pa.list_(pa.uint32())),
        })
        meta = {"settings": dataclasses.asdict(self.settings), "scheme": SCHEME}
        return table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})

    def save(self, state_dir: Path) -> Path:
        """Write the index as Parquet in ``state_dir`` (the caller makes it atomic)."""
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / self.file_name
        pq.write_table(self.to_table(), path)
        return path

    # -- queries -----------------------------------------------------------------
    def cluster_sizes(self) -> pa.Table:
        """``cluster_id, cluster_size`` over everything indexed so far."""
        roots, counts = np.unique(self._root, return_counts=True)
        return pa.table({"cluster_id": pa.array([self._ids[r] for r in roots.tolist()], pa.string()),
                         "cluster_size": pa.array(counts, pa.int64())})

    # -- adding ------------------------------------------------------------------
    def add(self, table: pa.Table) -> pa.Table:
        """Index new rows; return ``<id>, cluster_id, similarity`` for every input row.

        ``table`` has the id column and either ``text`` or the ``signature``
        (and, with containment, ``grams``) columns of :func:`sketch_table`.
        Rows are in processing order. An id indexed before keeps its cluster.
        """
        idc = self.id_column
        ids = [str(x) for x in table.column(idc).to_pylist()]
        new_rows: list[int] = []
        seen: set[str] = set()
        for i, k in enumerate(ids):
            if k not in self._pos and k not in seen:
                seen.add(k)
                new_rows.append(i)
        if new_rows:
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
            self._add_sketches([ids[i] for i in new_rows], sigs, gv, go)
        pos = [self._pos[k] for k in ids]
        return pa.table({
            idc: pa.array(ids, pa.string()),
            "cluster_id": pa.array([self._ids[self._root[p]] for p in pos], pa.string()),
            "similarity": pa.array(self._sim[pos] if pos else np.empty(0, np.float32), pa.float32()),
        })

    def _add_sketches(self, new_ids: list[str], sigs: np.ndarray, gv: np.ndarray,
                      go: np.ndarray) -> None:
        s = self.settings
        n_old = len(self._ids)
        n = n_old + len(new_ids)
        keys = band_keys(sigs, s.bands, s.rows)
        all_sigs = np.concatenate((self._sigs, sigs))
        all_keys = np.concatenate((self._keys, keys))
        pairs = lsh_candidates(all_keys, n_old)
        weights = estimated_jaccard(all_sigs, pairs)
        ok = weights >= s.threshold
        pairs, weights = pairs[ok], weights[ok]
        all_gv = np.concatenate((self._gv, gv))
        all_go = np.concatenate((self._go, go[1:] + self._go[-1]))
        if s.containment:
            cpairs = containment_candidates(all_gv, all_go, s.anchors, s.containment_min_grams,
                                            n_old, s.max_anchor_group)
            if len(cpairs):
                small = np.diff(all_go)[cpairs[:, 0]]
                c = intersection_sizes(all_gv, all_go, cpairs) / np.maximum(small, 1)
                ok = c >= s.containment_threshold
                pairs = np.concatenate((pairs, np.sort(cpairs[ok], axis=1)))
                weights = np.concatenate((weights, c[ok].astype(np.float32)))
        roots = cluster(n, n_old, self._root, pairs, weights)
        sim = np.ones(len(new_ids), dtype=np.float32)
        joined = np.flatnonzero(roots != np.arange(n_old, n))
        if len(joined):
            canon = np.stack((roots[joined], joined + n_old), axis=1)
            sim[joined] = estimated_jaccard(all_sigs, canon)
            if s.containment:
                lens = np.diff(all_go)
                smaller = np.minimum(lens[canon[:, 0]], lens[canon[:, 1]])
                c = intersection_sizes(all_gv, all_go, canon) / np.maximum(smaller, 1)
                c[smaller < s.containment_min_grams] = 0
                sim[joined] = np.maximum(sim[joined], c)
        self._ids.extend(new_ids)
        for i, k in enumerate(new_ids):
            self._pos[k] = n_old + i
        self._sigs, self._keys = all_sigs, all_keys
        self._root = np.concatenate((self._root, roots))
        self._sim = np.concatenate((self._sim, sim))
        self._gv, self._go = all_gv, all_go


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
        ids = out.column("doc_id").to_pylist()
        cids = out.column("cluster_id").to_pylist()
        dup = pa.array([c if c != d else None for d, c in zip(ids, cids)], pa.string())
        return out.append_column("near_duplicate_of", dup)
