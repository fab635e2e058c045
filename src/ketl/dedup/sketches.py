"""Stored sketches of an index's items (MinHash signature, word n-gram set), by item number.

One Arrow IPC file per run, ``from-<first item>.arrow``, written once and never
rewritten: a run adds a file, so snapshots share the earlier ones by hard link.
Files are memory-mapped, so reading the sketches of a few items (the candidate
pairs a task verifies) touches only their pages: no process has to hold every
signature, which is what lets the band step run as independent tasks (#7).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa

from ketl.atomic import Pending
from ketl.dedup.lsh import _expand

__all__ = ["DamagedIndex", "SketchStore", "SketchWriter", "chunk_name", "link_files", "merge_files"]

REBUILD = "rebuild the dataset with `ketl run --full`"


class DamagedIndex(ValueError):
    """Stored index files that cannot be read as written (missing, truncated, other settings)."""

_NAME = re.compile(r"from-(\d{12})\.arrow$")


def chunk_name(first_item: int) -> str:
    return f"from-{first_item:012d}.arrow"


def _schema(num_perm: int) -> pa.Schema:
    return pa.schema([pa.field("signature", pa.list_(pa.uint32(), num_perm)),
                      pa.field("grams", pa.list_(pa.uint32()))])


class SketchStore:
    """Sketches of items ``0 .. len-1`` in chunks (memory-mapped files or arrays)."""

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._starts: list[int] = []
        self._sigs: list[np.ndarray] = []
        self._grams: list[pa.ListArray] = []
        self._files: list[Path | None] = []  # the file a chunk is mapped from (None: in memory)
        self._mapped: list[pa.Buffer] = []  # each mapped file whole (keeps its mapping alive)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @classmethod
    def open(cls, folder: Path, num_perm: int, upto: int | None = None) -> "SketchStore":
        """Memory-map every chunk file in ``folder`` (those before item ``upto`` when given)."""
        store = cls(num_perm)
        folder = Path(folder)
        files = sorted(folder.glob("from-*.arrow")) if folder.is_dir() else []
        for path in files:
            first = int(_NAME.search(path.name).group(1))
            if upto is not None and first >= upto:
                continue
            if first != store._n:
                raise DamagedIndex(f"{folder}: sketch files do not follow on at item {store._n} ({path.name}); "
                                   f"{REBUILD}")
            try:
                mapped = pa.memory_map(str(path))
                reader = pa.ipc.open_file(mapped)
            except (OSError, pa.ArrowInvalid) as exc:
                raise DamagedIndex(f"{path}: cannot be read ({exc}); {REBUILD}") from None
            mapped.seek(0)
            store._mapped.append(mapped.read_buffer())  # zero-copy: the mapping itself
            if reader.schema.field("signature").type != _schema(num_perm).field("signature").type:
                raise DamagedIndex(f"{path}: signatures are not {num_perm} uint32 values; {REBUILD}")
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                store._push(_sig_view(batch.column(0), num_perm), batch.column(1), path)
        if upto is not None and store._n != upto:
            raise DamagedIndex(f"{folder}: sketches stop at item {store._n}, the index has {upto} items; "
                               f"{REBUILD}")
        return store

    def mapped_buffers(self) -> list[pa.Buffer]:
        """The whole mapping of each file the store reads (page-aligned; held, so never unmapped
        while a caller holds them)."""
        return list(self._mapped)

    def _push(self, sigs: np.ndarray, grams: pa.ListArray, path: Path | None) -> None:
        if len(sigs) == 0:
            return
        self._starts.append(self._n)
        self._sigs.append(sigs)
        self._grams.append(grams)
        self._files.append(path)
        self._n += len(sigs)

    def append(self, sigs: np.ndarray, grams: pa.ListArray | None = None) -> None:
        """Keep the sketches of the next ``len(sigs)`` items in memory (until :meth:`write_new`)."""
        if grams is None:
            grams = pa.ListArray.from_arrays(pa.array(np.zeros(len(sigs) + 1, np.int32)),
                                             pa.array([], pa.uint32()))
        self._push(np.ascontiguousarray(sigs, dtype=np.uint32), grams, None)

    def signatures(self, items: np.ndarray) -> np.ndarray:
        """``(len(items), num_perm)`` signatures of ``items`` (any order, repeats allowed)."""
        # np.take, not fancy indexing: the same rows, about a third less CPU for whole rows.
        items = np.asarray(items, dtype=np.int64)
        if len(self._sigs) == 1:
            return np.take(self._sigs[0], items, axis=0)
        out = np.empty((len(items), self.num_perm), np.uint32)
        chunk = np.searchsorted(self._starts, items, side="right") - 1
        for c in _chunks_of(chunk, len(self._starts)):
            sel = chunk == c
            out[sel] = np.take(self._sigs[c], items[sel] - self._starts[c], axis=0)
        return out

    def jaccard(self, pairs: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
        """Estimated Jaccard (share of equal signature positions) of every pair."""
        out = np.empty(len(pairs), dtype=np.float32)
        for s in range(0, len(pairs), chunk):
            p = pairs[s:s + chunk]
            out[s:s + chunk] = share_equal(self.signatures(p[:, 0]) == self.signatures(p[:, 1]))
        return out

    def grams(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram sets of items ``start .. stop-1`` as CSR ``(values, offsets)``."""
        parts = []
        for first, grams in zip(self._starts, self._grams):
            lo, hi = max(start, first) - first, min(stop, first + len(grams)) - first
            if lo < hi:
                parts.append(grams.slice(lo, hi - lo))
        if not parts:
            return np.empty(0, np.uint32), np.zeros(stop - start + 1, np.int64)
        lists = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
        off = lists.offsets.to_numpy().astype(np.int64)
        vals = lists.values.to_numpy(zero_copy_only=False).astype(np.uint32)
        return vals[off[0]:off[-1]], off - off[0]

    def gram_lengths(self, start: int, stop: int) -> np.ndarray:
        """Set sizes of items ``start .. stop-1`` (offsets only: the values stay on disk)."""
        out = np.zeros(stop - start, np.int64)
        for first, grams in zip(self._starts, self._grams):
            lo, hi = max(start, first) - first, min(stop, first + len(grams)) - first
            if lo < hi:
                off = grams.offsets.to_numpy()
                out[lo + first - start:hi + first - start] = np.diff(off[lo:hi + 1])
        return out

    def gram_sets(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram sets of sorted distinct ``items`` as CSR ``(values, offsets)``."""
        items = np.asarray(items, dtype=np.int64)
        chunk = np.searchsorted(self._starts, items, side="right") - 1
        vals, lens = [], []
        for c in _chunks_of(chunk, len(self._starts)):
            grams = self._grams[c]
            off = grams.offsets.to_numpy()
            local = items[chunk == c] - self._starts[c]
            start, n = off[local], off[local + 1] - off[local]
            _, pos = _expand(start.astype(np.int64), n.astype(np.int64))
            vals.append(grams.values.to_numpy(zero_copy_only=False)[pos])
            lens.append(n)
        offsets = np.zeros(len(items) + 1, np.int64)
        if lens:
            np.cumsum(np.concatenate(lens), out=offsets[1:])
        return (np.concatenate(vals).astype(np.uint32) if vals else np.empty(0, np.uint32)), offsets

    def intersection_sizes(self, pairs: np.ndarray) -> np.ndarray:
        """``|grams(a) & grams(b)|`` of every pair, from the stored sets (exact).

        Both sides' values are tagged with the pair number and sorted
        together: a value in both sets is an adjacent equal code.
        """
        if len(pairs) == 0:
            return np.zeros(0, np.int64)
        items, inverse = np.unique(pairs.ravel(), return_inverse=True)
        vals, off = self.gram_sets(items)
        inverse = inverse.reshape(pairs.shape)
        codes = []
        for side in (0, 1):
            k = inverse[:, side]
            rid, pos = _expand(off[k], off[k + 1] - off[k])
            codes.append((rid.astype(np.uint64) << np.uint64(32)) | vals[pos].astype(np.uint64))
        both = np.concatenate(codes)
        both.sort()
        dup = both[1:] == both[:-1]
        return np.bincount((both[1:][dup] >> np.uint64(32)).astype(np.int64), minlength=len(pairs))

    def write_new(self, folder: Path) -> None:
        """Make ``folder`` hold every chunk: write those held in memory (one file
        each), hard-link stored files that live elsewhere."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        link_files(self.files(), folder)
        for c, path in enumerate(self._files):
            if path is None:
                with SketchWriter(folder, self._starts[c], self.num_perm) as w:
                    w.write(self._sigs[c], self._grams[c])
                self._files[c] = w.path

    def files(self) -> list[Path]:
        """The stored files the chunks are mapped from, in item order."""
        return list(dict.fromkeys(p for p in self._files if p is not None))


def _chunks_of(chunk: np.ndarray, n_chunks: int) -> list[int]:
    """The distinct chunk numbers in ``chunk``, ascending (``np.unique(chunk)``): one
    count per chunk, where numpy 2's np.unique hashes every item (several times slower)."""
    return np.flatnonzero(np.bincount(chunk, minlength=n_chunks)).tolist()


_BYTE_SUM = np.uint64(0x0101010101010101)


def share_equal(eq: np.ndarray) -> np.ndarray:
    """``eq.mean(axis=1)`` of a C-contiguous ``(n, width)`` bool array, as float64.

    With a width that is a multiple of 8 and below 256, each row is read as width/8
    uint64 words of eight 0/1 bytes: their sum holds each byte's count (at most
    width/8, no carry between bytes), and one multiply adds the eight bytes up
    (the total is below 256). About 3x faster than the mean's float reduction,
    and the same values: an integer count divided by the width in float64."""
    n, width = eq.shape
    if width % 8 or width >= 256 or not eq.flags.c_contiguous:
        return eq.mean(axis=1)
    lanes = eq.view(np.uint64).sum(axis=1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        lanes *= _BYTE_SUM
    lanes >>= np.uint64(56)
    return lanes.astype(np.float64) / width


def _sig_view(col: pa.Array, num_perm: int) -> np.ndarray:
    flat = col.values.to_numpy(zero_copy_only=False)[col.offset * num_perm:(col.offset + len(col)) * num_perm]
    return flat.reshape(len(col), num_perm)


class SketchWriter:
    """Streams record batches into one chunk file (temp name, renamed when closed).

    The rename makes a chunk appear whole or not at all, and never writes
    into a file an earlier snapshot shares by hard link.
    """

    def __init__(self, folder: Path, first_item: int, num_perm: int) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / chunk_name(first_item)
        self._pending = Pending(self.path)
        self._tmp = self._pending.tmp
        self._schema = _schema(num_perm)
        self._num_perm = num_perm
        self._sink = pa.OSFile(str(self._tmp), "wb")
        self._writer = pa.ipc.new_file(self._sink, self._schema)
        self.rows = 0

    def write(self, sigs: np.ndarray | pa.Array, grams: pa.Array) -> None:
        if len(sigs) == 0:
            return
        if isinstance(sigs, np.ndarray):
            sigs = pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel(), pa.uint32()), self._num_perm)
        self._writer.write_batch(pa.record_batch([sigs.cast(self._schema.field(0).type),
                                                  grams.cast(self._schema.field(1).type)], schema=self._schema))
        self.rows += len(sigs)

    def __enter__(self) -> "SketchWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._writer.close()
        self._sink.close()
        if exc_type is None and self.rows:
            self._pending.commit()
        else:
            self._pending.discard()


def link_files(files: Iterable[Path], folder: Path) -> None:
    """Hard-link stored chunk files into ``folder`` (a new snapshot's state)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = folder / f.name
        if target.exists():
            continue
        try:
            os.link(f, target)
        except OSError:  # another file system: copy (the files are never modified)
            import shutil

            shutil.copyfile(f, target)


def merge_files(files: list[Path], folder: Path, num_perm: int) -> Path | None:
    """Write consecutive chunk files as one file in ``folder`` (named by the first's item).

    Record batches are copied one at a time, so memory stays one batch.
    """
    if not files:
        return None
    first = int(_NAME.search(Path(files[0]).name).group(1))
    with SketchWriter(folder, first, num_perm) as writer:
        for f in files:
            reader = pa.ipc.open_file(pa.memory_map(str(f)))
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                writer.write(batch.column(0), batch.column(1))
    return writer.path
