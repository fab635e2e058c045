"""LSH banding as a group-by, candidate verification, containment, connected components.

Everything here works on plain numpy arrays whose *items* are row numbers in
processing order (earlier runs first), so each step maps onto a Dask/Arrow
group-by:

* :func:`band_rows` turns signatures into ``(key, item)`` rows, one per
  (item, band), the band number mixed into the uint64 key;
* :func:`group_pairs` is the band step proper: a group-by over ``key`` that
  returns candidate pairs. Only rows with the same key interact, so on Dask
  it runs per partition after a shuffle on ``key`` (see its docstring);
  :func:`band_table` / :func:`group_pairs_table` are the same over Arrow tables;
* :class:`BandTable` is the same step made incremental for the persistent
  index: stored keys stay sorted, new keys are merged with ``searchsorted``,
  and a run costs ``O(new log new + old)`` memory moves instead of a re-sort;
* :class:`GramIndex` does the same for containment (word n-gram hashes);
* :func:`cluster` takes verified pairs to cluster roots with
  ``scipy.sparse.csgraph.connected_components`` (scipy comes with datasketch).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ketl.dedup.minhash import EMPTY
from ketl.dedup.shingles import _fmix64_inplace

__all__ = ["band_keys", "band_rows", "band_table", "group_pairs", "group_pairs_table", "lsh_candidates", "BandTable", "GramIndex",
           "estimated_jaccard", "cluster"]

_ROW_MULT = np.uint64(0x9E3779B97F4A7C15)
_NO_PAIRS = np.empty((0, 2), dtype=np.int64)
_LOW32 = np.uint64(0xFFFFFFFF)


def band_keys(sigs: np.ndarray, bands: int, rows: int, which=None) -> np.ndarray:
    """``(n, bands)`` uint64 keys; equal key <=> equal band (up to 2**-64).

    ``which`` (band numbers) computes only those bands: ``(n, len(which))``,
    equal to the same columns of the full result. An empty signature gets key
    0 in every band, which callers drop, so texts without shingles never
    become candidates.
    """
    n = len(sigs)
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need more than {sigs.shape[1]} perms")
    which = np.arange(bands) if which is None else np.asarray(which, dtype=np.int64)
    v = sigs[:, :bands * rows].reshape(n, bands, rows)[:, which, :]
    with np.errstate(over="ignore"):
        k = np.empty((n, len(which)), dtype=np.uint64)
        k[:] = (which + 1).astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        for r in range(rows):
            k ^= v[:, :, r]
            k *= _ROW_MULT
            _fmix64_inplace(k)  # in place: no fresh (n, bands) array per step
    k[k == 0] = 1  # 0 is the "no key" marker (a real 0 has probability 2**-64)
    k[(sigs == EMPTY).all(axis=1)] = 0
    return k


def band_rows(keys: np.ndarray, first_item: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(n, bands)`` keys -> flat ``(key, item)`` rows, empty signatures dropped."""
    n, bands = keys.shape
    flat = keys.ravel()
    items = np.repeat(np.arange(first_item, first_item + n, dtype=np.int64), bands)
    live = flat != 0
    return flat[live], items[live]


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distinct ``(a, b)`` rows, sorted; a 1-D unique on packed codes (no axis=0 sort)."""
    if len(a) == 0:
        return _NO_PAIRS
    m = np.int64(max(int(a.max()), int(b.max())) + 1)
    codes = distinct_sorted(a * m + b)
    return np.stack((codes // m, codes % m), axis=1)


def unique_row_pairs(links: list[np.ndarray], first_item: int) -> np.ndarray:
    """:func:`_unique_pairs` of the pairs ``(links[j][r], first_item + r)`` (-1: no pair), as
    :meth:`BandTable.add_band_links` gives them per band. A repeat is found within its row
    first (a sort of a few values per row), so the sort of the whole block's codes only
    sees distinct pairs: an item repeated in every band of a task gave the same pairs in
    each (7.1 million pairs sorted for 1.9 million distinct over the 8 band tasks of
    bench_vs_by_hand's 20,000 articles)."""
    m = np.stack(links, axis=1)
    m.sort(axis=1)
    keep = m >= 0
    keep[:, 1:] &= m[:, 1:] != m[:, :-1]
    rows, cols = np.nonzero(keep)
    if not len(rows):
        return _NO_PAIRS
    a, b = m[rows, cols], rows.astype(np.int64) + first_item
    mult = np.int64(max(int(a.max()), int(b.max())) + 1)
    codes = a * mult
    codes += b
    codes.sort()
    return np.stack((codes // mult, codes % mult), axis=1)


def distinct_sorted(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` for a 1-D integer array, by a sort and a neighbour mask.

    numpy 2.x answers a plain ``np.unique`` by hashing every value, which on
    millions of int64 codes is ~10x slower than its SIMD sort (3.6 s against
    0.25 s for 4 million here); the result is the same sorted distinct values.
    """
    s = np.sort(x)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _sorted_groups(key: np.ndarray, item: np.ndarray):
    """Rows sorted by (key, item) and the group-start flags.

    numpy's SIMD quicksort of the keys alone is ~4x faster than a lexsort;
    only rows in groups of two or more (the rare duplicates) are then
    re-sorted by item.
    """
    order = np.argsort(key)
    k, it = key[order], item[order]
    start = np.empty(len(k), dtype=bool)
    if len(k):
        start[0] = True
        np.not_equal(k[1:], k[:-1], out=start[1:])
        multi = ~start
        multi[:-1] |= ~start[1:]
        idx = np.flatnonzero(multi)
        if len(idx):
            # (group, item) packed in one uint64: a plain sort, no lexsort (items < 2**32).
            packed = np.cumsum(start)[idx].astype(np.uint64) << np.uint64(32)
            packed |= it[idx].astype(np.uint64)
            packed.sort()
            it[idx] = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return k, it, start


def group_pairs(key, item, first_new: int = 0) -> np.ndarray:
    """The band step as a group-by over ``key``: rows -> candidate pairs ``(earlier, later)``.

    ``key`` (uint64, band mixed in) and ``item`` (int64 row number in
    processing order) are numpy arrays or Arrow arrays of equal length.
    Within each group of equal keys, every row is paired with the group's
    first (earliest) item and with the item just before it: ``O(rows)`` pairs
    whatever the group sizes. Since every pair is verified afterwards (and a
    chain needs each link verified), bands alone never chain unrelated items.
    Only pairs whose later item is ``>= first_new`` are returned, distinct.

    Rows of different keys never interact, so on Dask (#7) this runs as::

        ddf.shuffle("key").map_partitions(lambda df: group_pairs(df.key, df.item, first_new))

    and the partitions' pairs are concatenated and de-duplicated.
    """
    if isinstance(key, (pa.Array, pa.ChunkedArray)):
        key = key.to_numpy(zero_copy_only=False)
    if isinstance(item, (pa.Array, pa.ChunkedArray)):
        item = item.to_numpy(zero_copy_only=False)
    key = np.asarray(key, dtype=np.uint64)
    item = np.asarray(item, dtype=np.int64)
    if len(key) < 2:
        return _NO_PAIRS
    k, it, start = _sorted_groups(key, item)
    gid = np.cumsum(start) - 1
    first = it[np.flatnonzero(start)][gid]
    prev = np.empty_like(it)
    prev[0] = -1
    prev[1:] = it[:-1]
    prev[start] = -1
    return _unique_pairs(*_raw_pairs(first, prev, it, first_new))


def _raw_pairs(first: np.ndarray, prev: np.ndarray, it: np.ndarray,
               first_new: int) -> tuple[np.ndarray, np.ndarray]:
    ok = it >= first_new
    to_first = ok & (first != it)
    to_prev = ok & (prev >= 0) & (prev != first)
    return (np.concatenate((first[to_first], prev[to_prev])),
            np.concatenate((it[to_first], it[to_prev])))


def band_table(keys: np.ndarray, first_item: int = 0) -> pa.Table:
    """``(n, bands)`` keys as Arrow rows ``band, key, item`` (empty signatures dropped):
    the input of :func:`group_pairs_table`, partitionable by ``band`` or ``key``."""
    n, bands = keys.shape
    band = np.tile(np.arange(bands, dtype=np.int16), n)
    key, item = band_rows(keys, first_item)
    return pa.table({"band": band[keys.ravel() != 0], "key": key, "item": item})


def group_pairs_table(rows: pa.Table, first_new: int = 0) -> pa.Table:
    """:func:`group_pairs` over an Arrow table with ``key`` and ``item`` columns.

    Returns ``earlier, later`` (int64). The unit of work of a distributed band
    step: partition the rows by ``key`` (or by ``band``), call this on every
    partition, concatenate and drop duplicate pairs.
    """
    pairs = group_pairs(rows.column("key"), rows.column("item"), first_new)
    return pa.table({"earlier": pairs[:, 0], "later": pairs[:, 1]})


def lsh_candidates(keys: np.ndarray, first_new: int) -> np.ndarray:
    """Candidate pairs from ``(n, bands)`` band keys of every item (rows before ``first_new`` are old)."""
    return group_pairs(*band_rows(keys), first_new)


class BandTable:
    """Stored band keys, one sorted array per band: ``key -> (first item, last item)``.

    That is all :func:`group_pairs` needs from earlier runs: a new row pairs
    with its group's first item and with the item before it (the group's last
    stored item, for the first new row of a group). :meth:`add` gives exactly
    the pairs of :func:`group_pairs` over old + new rows, and merges the new
    keys with ``searchsorted`` + ``insert`` (no re-sort of stored keys). Bands
    are processed one at a time: keys of different bands never meet, and the
    temporaries stay ``bands`` times smaller.
    """

    def __init__(self, bands: int) -> None:
        self.bands = bands
        self.key = [np.empty(0, np.uint64) for _ in range(bands)]
        self.first = [np.empty(0, np.int64) for _ in range(bands)]
        self.last = [np.empty(0, np.int64) for _ in range(bands)]

    def __len__(self) -> int:
        return sum(len(k) for k in self.key)

    def add(self, keys: np.ndarray, first_item: int) -> np.ndarray:
        """Merge the ``(n, bands)`` keys of items ``first_item ..`` (later than every
        stored item); return their candidate pairs ``(earlier, later)``, distinct."""
        a_parts, b_parts = [], []
        for b in range(self.bands):
            a, c = self.add_band(b, keys[:, b], first_item)
            a_parts.append(a)
            b_parts.append(c)
        return _unique_pairs(np.concatenate(a_parts), np.concatenate(b_parts))

    def add_band(self, b: int, keys: np.ndarray, first_item: int) -> tuple[np.ndarray, np.ndarray]:
        """One band of :meth:`add`: its raw pairs ``(earlier, later)``, repeats possible.

        Bands never interact, so tasks holding different bands run this
        independently and the union of their pairs is :meth:`add`'s.
        """
        items = np.arange(first_item, first_item + len(keys), dtype=np.int64)
        live = keys != 0
        if not live.any():
            return _NO_PAIRS[:, 0], _NO_PAIRS[:, 1]
        return self._add_band(b, keys[live], items[live])

    def add_band_links(self, b: int, keys: np.ndarray, first_item: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`add_band` as two arrays aligned with ``keys``: each row's earlier item
        paired as its group's first and as the item before it (-1: none), so that the
        pairs of several bands can be de-duplicated row by row (:func:`unique_row_pairs`)."""
        to_first, to_prev = np.full(len(keys), -1, np.int64), np.full(len(keys), -1, np.int64)
        live = np.flatnonzero(keys != 0)
        if len(live):
            first, prev, it = self._merge_band(b, keys[live], live + first_item)
            row = it - first_item
            to_first[row] = np.where(first != it, first, -1)
            to_prev[row] = np.where((prev >= 0) & (prev != first), prev, -1)
        return to_first, to_prev

    def _add_band(self, b: int, key: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _raw_pairs(*self._merge_band(b, key, item), 0)

    def _merge_band(self, b: int, key: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Merge ``key, item`` rows into band ``b``; each row's group first and previous item
        (-1: none) and its item, in key order."""
        old_key, old_first, old_last = self.key[b], self.first[b], self.last[b]
        k, it, start = _sorted_groups(key, item)
        starts = np.flatnonzero(start)
        gid = np.cumsum(start) - 1
        uk = k[starts]
        g_first = it[starts]
        g_last = it[np.append(starts[1:], len(k)) - 1]
        pos = np.searchsorted(old_key, uk)
        prev = np.empty_like(it)
        prev[0] = -1
        prev[1:] = it[:-1]
        prev[starts] = -1
        found = np.zeros(len(uk), dtype=bool)
        if len(old_key):
            pc = np.minimum(pos, len(old_key) - 1)
            found = old_key[pc] == uk
            if found.any():
                g_first = np.where(found, old_first[pc], g_first)
                prev[starts[found]] = old_last[pc[found]]
                old_last = old_last.copy()
                old_last[pc[found]] = g_last[found]
        ins = ~found
        self.key[b] = np.insert(old_key, pos[ins], uk[ins])
        self.first[b] = np.insert(old_first, pos[ins], g_first[ins])
        self.last[b] = np.insert(old_last, pos[ins], g_last[ins])
        return g_first[gid], prev, it

    def to_table(self) -> pa.Table:
        band = np.repeat(np.arange(self.bands, dtype=np.int16), [len(k) for k in self.key])
        return pa.table({"band": band, "key": np.concatenate(self.key),
                         "first": np.concatenate(self.first), "last": np.concatenate(self.last)})

    def band_to_table(self, b: int) -> pa.Table:
        """Band ``b`` alone (``key, first, last``, sorted by key): one file per band on disk."""
        return pa.table({"key": self.key[b], "first": self.first[b], "last": self.last[b]})

    def load_band(self, b: int, table: pa.Table) -> None:
        self.key[b] = table.column("key").to_numpy().astype(np.uint64)
        self.first[b] = table.column("first").to_numpy().astype(np.int64)
        self.last[b] = table.column("last").to_numpy().astype(np.int64)

    @classmethod
    def from_table(cls, table: pa.Table, bands: int) -> "BandTable":
        """From :meth:`to_table`'s layout (all bands in one table, the index's format 2)."""
        out = cls(bands)
        band = table.column("band").to_numpy()
        cut = np.searchsorted(band, np.arange(bands + 1))
        for b in range(bands):
            out.load_band(b, table.slice(cut[b], cut[b + 1] - cut[b]))
        return out


def estimated_jaccard(sigs: np.ndarray, pairs: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
    """Fraction of equal signature positions for each pair (datasketch's estimate)."""
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), chunk):
        p = pairs[s:s + chunk]
        out[s:s + chunk] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return out


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[start, start+count)``: (range number, position) of every member."""
    total = int(counts.sum())
    rid = np.repeat(np.arange(len(counts)), counts)
    pos = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    return rid, pos


_ROWS = 1 << 16  # expanded rows GramIndex.add_code_rows builds at a time (~80 bytes each in temporaries)


def _cuts(counts: np.ndarray):
    """``[i, j)`` runs covering ``counts`` (non-negative), each summing to ``_ROWS`` at most
    (or one entry, when that entry alone is more)."""
    ends = np.cumsum(counts)
    i = 0
    while i < len(counts):
        start = ends[i - 1] if i else 0
        j = max(i + 1, int(np.searchsorted(ends, start + _ROWS, side="right")))
        yield i, j
        i = j


GRAM_PART_BITS = 5
GRAM_PARTS = 1 << GRAM_PART_BITS  # value ranges the stored n-grams are split into (one file each)


def gram_part_range(p: int) -> tuple[int, int]:
    """Values ``[lo, hi)`` of partition ``p``: the top bits of the uint32 value."""
    width = 1 << (32 - GRAM_PART_BITS)
    return p * width, (p + 1) * width


def containment_candidates(a: np.ndarray, b: np.ndarray, lens: np.ndarray, min_hits: int) -> np.ndarray:
    """Rows of :meth:`GramIndex.add_raw` (from one or many partitions) -> candidate pairs.

    Each row is one anchor of ``a`` found in ``b``; a pair is kept when ``a``
    is no larger than ``b`` and ``b`` holds at least ``min_hits`` of its
    anchors (all of them when ``a`` has fewer). Sorted, distinct.
    """
    keep = lens[a] <= lens[b]
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return _NO_PAIRS
    m = np.int64(max(int(a.max()), int(b.max())) + 1)
    codes, hits = np.unique(a * m + b, return_counts=True)
    codes = codes[hits >= np.minimum(min_hits, lens[codes // m])]
    return np.stack((codes // m, codes % m), axis=1)


def new_codes(values: np.ndarray, offsets: np.ndarray, first_new: int, anchors: int, min_size: int,
               part: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``value << 32 | item`` codes of new sets (CSR) and their anchor flags, unsorted;
    only values of partition ``part`` when given.

    The partition is chosen on the uint32 values first: a band task holds a few
    of the 32 partitions, and building the uint64 codes of every value for each
    of them took memory proportional to the whole run's n-grams (measured: the
    largest part of a band task's peak at 100,000 articles).
    """
    offsets = np.asarray(offsets, np.int64)
    values = np.asarray(values)
    new_lens = np.diff(offsets)
    if part is None:
        item = np.repeat(np.arange(len(new_lens), dtype=np.int64), new_lens)
        taken = values
    else:
        where = np.flatnonzero((values >> (32 - GRAM_PART_BITS)) == part)  # the value's top bits
        item = np.searchsorted(offsets, where, side="right") - 1  # empty sets share an offset: the last wins
        taken = values[where]
    # Sets are sorted, so each set's anchors are its first `anchors` values.
    at = (where if part is not None else np.arange(len(values))) - offsets[item]
    anc = (at < anchors) & (new_lens[item] >= min_size)
    codes = (item + first_new).astype(np.uint64)
    codes |= np.asarray(taken, np.uint64) << np.uint64(32)
    return codes, anc


class GramIndex:
    """Every stored word n-gram hash, for containment: sorted ``value << 32 | item`` codes.

    One sorted uint64 array answers both questions containment asks: which
    items hold value ``v`` (a ``searchsorted`` range) and whether item ``j``
    holds ``v`` (one ``searchsorted``). ``anchor`` flags codes that are among
    their item's ``anchors`` smallest values. Items must stay below 2**32.
    New codes are merged with ``searchsorted`` + ``insert``: no re-sort.
    """

    def __init__(self, codes: np.ndarray | None = None, anchor: np.ndarray | None = None) -> None:
        self.codes = np.empty(0, np.uint64) if codes is None else np.asarray(codes, np.uint64)
        self.anchor = np.empty(0, bool) if anchor is None else np.asarray(anchor, bool)

    def __len__(self) -> int:
        return len(self.codes)

    def to_table(self) -> pa.Table:
        return pa.table({"code": self.codes, "anchor": self.anchor})

    @classmethod
    def from_table(cls, table: pa.Table) -> "GramIndex":
        return cls(table.column("code").to_numpy(), table.column("anchor").to_numpy(zero_copy_only=False))

    def add(self, values: np.ndarray, offsets: np.ndarray, first_new: int, lens: np.ndarray,
            anchors: int, min_size: int, max_group: int, min_hits: int = 1) -> np.ndarray:
        """Merge new items' sets (CSR of sorted unique values); return containment candidates.

        A pair ``(i, j)`` means set ``i`` (no larger than ``j``) may be contained
        in ``j``: if S is in L, S's smallest values (its anchors) are in L too,
        so looking each anchor up among all stored values finds every such
        pair. Values held by more than ``max_group`` items (stock phrases) are
        not used. ``lens`` holds the set size of every item, old and new.
        """
        a, b = self.add_raw(values, offsets, first_new, anchors, min_size, max_group)
        return containment_candidates(a, b, lens, min_hits)

    def add_raw(self, values: np.ndarray, offsets: np.ndarray, first_new: int, anchors: int,
                min_size: int, max_group: int, part: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`add`'s group-by over values: one ``(a, b)`` row per anchor of ``a`` found in ``b``.

        Rows of different values never interact, so with ``part`` the index
        stores and probes only the values of that partition (a range, see
        :func:`gram_part_range`), and the union of all partitions' rows is
        the whole index's. :func:`containment_candidates` counts them.
        """
        return self.add_codes(*new_codes(values, offsets, first_new, anchors, min_size, part), max_group)

    def add_codes(self, codes: np.ndarray, anc: np.ndarray, max_group: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`add_raw` from the new sets' codes and anchor flags (:func:`new_codes`, in
        any order: a caller may build them a block of items at a time)."""
        a_parts, b_parts = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for a, b in self.add_code_rows(codes, anc, max_group):
            a_parts.append(a)
            b_parts.append(b)
        return np.concatenate(a_parts), np.concatenate(b_parts)

    def add_code_rows(self, codes: np.ndarray, anc: np.ndarray, max_group: int):
        """:meth:`add_codes`'s rows ``(a, b)`` a piece at a time (a generator: their
        concatenation is its result), each built from at most about ``_ROWS`` expanded
        rows; the codes are merged into the index once the last piece is taken. Built
        whole, the expansions' temporaries were a band task's peak (35 MB for one
        partition's 413,000 rows at 100,000 articles of bench_vs_by_hand's corpus)."""
        order = np.argsort(codes)  # codes are distinct: any sort will do
        codes, anc = codes[order], anc[order]
        del order
        vkey = codes & ~_LOW32  # value << 32: the start of the value's range
        change = np.ones(len(codes) + 1, dtype=bool)
        np.not_equal(vkey[1:], vkey[:-1], out=change[1:-1])
        bounds = np.flatnonzero(change)
        del change
        sizes = np.diff(bounds)
        if len(self.codes):
            # Group sizes over old + new rows, per distinct value.
            gkey = vkey[bounds[:-1]]
            del vkey
            lo = np.searchsorted(self.codes, gkey)
            n_old = np.searchsorted(self.codes, gkey + (_LOW32 + np.uint64(1))) - lo
            del gkey
            total = n_old + sizes
            useful = (total > 1) & (total <= max_group)
            del total
            groups = np.flatnonzero(useful & (n_old > 0))
            # New rows against stored rows of the same value, both directions (new anchors
            # first, then stored ones, as one pass over every group gave them).
            for new_side in (True, False):
                for i, j in _cuts(sizes[groups] * n_old[groups]):
                    yield self._old_new_rows(codes, anc, bounds, sizes, lo, n_old, groups[i:j], new_side)
        else:
            del vkey
            useful = (sizes > 1) & (sizes <= max_group)
        # New anchors against new rows of the same value.
        rows = np.flatnonzero(anc)
        g = np.searchsorted(bounds, rows, side="right") - 1
        sel = useful[g] & (sizes[g] > 1)
        rows, g = rows[sel], g[sel]
        for i, j in _cuts(sizes[g]):
            r_of, pos = _expand(bounds[g[i:j]], sizes[g[i:j]])
            a, b = (codes[rows[i:j][r_of]] & _LOW32).astype(np.int64), (codes[pos] & _LOW32).astype(np.int64)
            keep = a != b
            yield a[keep], b[keep]
        # Merge (the codes are sorted, so the insert positions are too).
        ins = np.searchsorted(self.codes, codes)
        self.codes = np.insert(self.codes, ins, codes)
        self.anchor = np.insert(self.anchor, ins, anc)

    def _old_new_rows(self, codes, anc, bounds, sizes, lo, n_old, groups, new_side: bool):
        """For new rows and stored rows of the same value in ``groups``: (new anchor, stored
        item) rows when ``new_side``, else (stored anchor, new item) rows."""
        g_of, new_pos = _expand(bounds[groups], sizes[groups])
        r_of, old_pos = _expand(lo[groups][g_of], n_old[groups][g_of])
        new_pos = new_pos[r_of]
        new_item = (codes[new_pos] & _LOW32).astype(np.int64)
        old_item = (self.codes[old_pos] & _LOW32).astype(np.int64)
        take = anc[new_pos] if new_side else self.anchor[old_pos]
        a, b = (new_item[take], old_item[take]) if new_side else (old_item[take], new_item[take])
        keep = a != b
        return a[keep], b[keep]

    def part(self, p: int) -> "GramIndex":
        """The codes of value partition ``p`` (a view: the codes are sorted by value)."""
        lo, hi = (np.searchsorted(self.codes, np.uint64(v << 32)) if v < 1 << 32 else len(self.codes)
                  for v in gram_part_range(p))
        return GramIndex(self.codes[lo:hi], self.anchor[lo:hi])

    def intersection_sizes(self, values: np.ndarray, offsets: np.ndarray, first_new: int,
                           probe: np.ndarray, other: np.ndarray) -> np.ndarray:
        """``|set(probe) & set(other)|`` per pair, for new ``probe`` items (CSR ``values``)."""
        if len(probe) == 0:
            return np.zeros(0, dtype=np.int64)
        p = probe - first_new
        rid, pos = _expand(offsets[p], offsets[p + 1] - offsets[p])
        q = (np.asarray(values, np.uint64)[pos] << np.uint64(32)) | other[rid].astype(np.uint64)
        if len(self.codes) == 0 or len(q) == 0:
            return np.zeros(len(probe), dtype=np.int64)
        # Sorted needles keep the binary searches in cache: measured 5x faster.
        order = np.argsort(q)
        q = q[order]
        hit = self.codes[np.minimum(np.searchsorted(self.codes, q), len(self.codes) - 1)] == q
        return np.bincount(rid[order[hit]], minlength=len(probe))


def cluster(n: int, first_new: int, old_root: np.ndarray, pairs: np.ndarray,
            weights: np.ndarray) -> np.ndarray:
    """Connected components over verified pairs; the root (earliest member) of every new item.

    Old items keep their clusters (``old_root``, an index < first_new) and two
    old clusters are never merged, so a cluster id never changes. Components
    are found with scipy over a graph of new items plus the old clusters they
    touch. A component touching two or more old clusters (rare) is resolved by
    Kruskal's order instead: strongest pairs first, so a new item bridging two
    old clusters joins the one it is most similar to.
    """
    n_new = n - first_new
    if n_new <= 0:
        return np.empty(0, np.int64)
    own = np.arange(first_new, n, dtype=np.int64)
    if len(pairs) == 0:
        return own
    ru, rv, live = _live_roots(pairs, first_new, old_root)
    olds = distinct_sorted(np.concatenate((ru[ru < first_new], rv[rv < first_new])))

    def node(r: np.ndarray) -> np.ndarray:
        return np.where(r >= first_new, r - first_new, n_new + np.searchsorted(olds, r))

    m = n_new + len(olds)
    graph = coo_matrix((np.ones(len(ru), np.int8), (node(ru), node(rv))), shape=(m, m))
    n_comp, labels = connected_components(graph, directed=False)
    member = np.concatenate((own, olds))
    comp_root = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(comp_root, labels, member)
    roots = comp_root[labels[:n_new]]
    n_olds = np.bincount(labels[n_new:], minlength=n_comp)
    bad = n_olds[labels[:n_new]] >= 2
    if bad.any():
        bad_comp = n_olds >= 2
        on_bad = bad_comp[labels[node(ru)]]
        sub = np.flatnonzero(live)[on_bad]
        roots[bad] = _kruskal(first_new, old_root, pairs[sub], weights[sub], own[bad])
    return roots


def _kruskal(first_new: int, old_root: np.ndarray, pairs: np.ndarray, weights: np.ndarray,
             items: np.ndarray) -> np.ndarray:
    """Union-find, strongest pairs first, old clusters frozen; roots of ``items``."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while True:
            p = parent.get(root)
            if p is None:
                p = int(old_root[root]) if root < first_new else root
                if p == root:
                    break
            root = p
        while x != root:  # path compression
            nxt = parent.get(x, int(old_root[x]) if x < first_new else x)
            parent[x] = root
            x = nxt
        return root

    for k in np.argsort(-weights, kind="stable").tolist():
        ri, rj = find(int(pairs[k, 0])), find(int(pairs[k, 1]))
        if ri == rj:
            continue
        lo, hi = (ri, rj) if ri < rj else (rj, ri)
        if hi < first_new:
            continue  # both old: frozen
        parent[hi] = lo  # a root stays the earliest member: an old root always wins
    return np.fromiter((find(int(i)) for i in items), dtype=np.int64, count=len(items))


class Components:
    """Connected components of ``m`` nodes whose edges come a block at a time.

    ``label[x]`` is the smallest node of ``x``'s component. A block's edges join
    labels (each the smallest node of its component), scipy finds the components
    of that small graph, and every node takes its label's new smallest node:
    components do not depend on the order or repetition of edges, so the labels
    after the last block are those of one pass over every edge. Memory is the
    labels plus one block, not every edge at once.
    """

    def __init__(self, m: int) -> None:
        self.label = np.arange(m, dtype=np.int64)

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        if not len(a):
            return
        m = len(self.label)
        graph = coo_matrix((np.ones(len(a), np.int8), (self.label[a], self.label[b])), shape=(m, m))
        _, comp = connected_components(graph, directed=False)
        del graph
        low = np.full(comp.max() + 1, m, np.int64)
        np.minimum.at(low, comp, np.arange(m, dtype=np.int64))  # a non-label node is alone in its comp
        self.label = low[comp[self.label]]


def _live_roots(pairs: np.ndarray, first_new: int, old_root: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`cluster`'s pairs touching a new item, each end replaced by its old cluster's
    root when old; and the mask of those pairs."""
    u, v = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    live = (u >= first_new) | (v >= first_new)
    u, v = u[live], v[live]
    u[u < first_new] = old_root[u[u < first_new]]
    v[v < first_new] = old_root[v[v < first_new]]
    return u, v, live


def cluster_blocks(n: int, first_new: int, old_root: np.ndarray, blocks, extra: tuple[np.ndarray, np.ndarray],
                   pairs_only=None) -> np.ndarray:
    """:func:`cluster` of the verified pairs given a block at a time: the result equals
    ``cluster(n, first_new, old_root, concat(merge_pairs(blocks()), extra pairs),
    concat(their weights, extra weights))`` without holding the merged pairs.

    ``blocks()`` yields ``(pairs, weights)`` afresh on each call (the band tasks'
    files); a pair may repeat across blocks with its weight. ``pairs_only()``, when
    given, yields the same pairs without their weights: the two passes that need no
    weights read it (a band file's weights are read once, by the Kruskal pass, and
    only when a component bridges two old clusters). ``extra`` (the verified containment pairs) follows them, as in
    :meth:`NearDupIndex._link`. Why it is the same:

    * nodes: the old roots the live pairs touch, sorted, then the new items;
      node order is item order, so a component's smallest node is its earliest
      member, the root :func:`cluster` takes (old roots precede new items);
    * components: :class:`Components` over the same edge set, repeats or not;
    * a component touching two old clusters takes Kruskal's order, which
      depends on the order of equal weights: its pairs are gathered from every
      block, merged as :func:`~ketl.dedup.index.merge_pairs` merges (sorted by
      ``(earlier, later)``, the first block's weight of a repeated pair), then
      its extra pairs in their order: ``pairs[sub]`` of :func:`cluster`.
    """
    n_new = n - first_new
    if n_new <= 0:
        return np.empty(0, np.int64)
    own = np.arange(first_new, n, dtype=np.int64)
    pairs_only = pairs_only or (lambda: (p for p, _ in blocks()))
    olds = [np.empty(0, np.int64)]
    if first_new:
        for pairs in _with_extra(pairs_only, extra[0]):
            u, v, _live = _live_roots(pairs, first_new, old_root)
            olds.append(distinct_sorted(np.concatenate((u[u < first_new], v[v < first_new]))))
    olds = distinct_sorted(np.concatenate(olds))
    k = len(olds)

    def node(r: np.ndarray) -> np.ndarray:
        return np.where(r >= first_new, r - first_new + k, np.searchsorted(olds, r))

    comps = Components(k + n_new)
    for pairs in _with_extra(pairs_only, extra[0]):
        u, v, _live = _live_roots(pairs, first_new, old_root)
        comps.add(node(u), node(v))
    label = comps.label
    roots = np.concatenate((olds, own))[label[k:]]
    n_olds = np.bincount(label[:k], minlength=k + n_new)
    bad = n_olds[label[k:]] >= 2
    if bad.any():
        on = n_olds >= 2  # per label: a component holding two old clusters or more

        def on_bad(pairs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            u, _v, live = _live_roots(pairs, first_new, old_root)
            sel = on[label[node(u)]]
            return pairs[live][sel], weights[live][sel]

        from ketl.dedup.index import merge_pairs  # index imports this module

        pairs, weights = merge_pairs([on_bad(p, w) for p, w in blocks()])
        more, more_w = on_bad(*extra)
        roots[bad] = _kruskal(first_new, old_root, np.concatenate((pairs, more)),
                              np.concatenate((weights, more_w)), own[bad])
    return roots


# Pairs joined per Components.add: a band task's file holds a million pairs at 100,000
# articles, and one add's temporaries (node numbers, scipy's CSR copy) are ~60 bytes a pair.
_EDGES = 1 << 18


def _with_extra(pairs_only, extra: np.ndarray):
    """Every block's pairs, then the extra pairs, in slices of at most ``_EDGES``."""
    for pairs in _chain(pairs_only(), extra):
        for lo in range(0, len(pairs), _EDGES):
            yield pairs[lo:lo + _EDGES]


def _chain(blocks, extra):
    yield from blocks
    yield extra


def containment_candidates_blocks(blocks, lens: np.ndarray, min_hits: int) -> np.ndarray:
    """:func:`containment_candidates` of the rows of every block (``(a, b)`` arrays, the
    band tasks' containment rows) without holding them all: each block's rows are
    counted per pair and the counts summed into a running sorted table, whose size
    is the distinct pairs. Same pairs in the same order."""
    n = np.int64(len(lens))
    codes, hits = np.empty(0, np.int64), np.empty(0, np.int64)
    for a, b in blocks:
        keep = lens[a] <= lens[b]
        c, h = np.unique(a[keep].astype(np.int64) * n + b[keep], return_counts=True)
        del keep
        if len(codes):
            c, inv = np.unique(np.concatenate((codes, c)), return_inverse=True)
            h = np.bincount(inv, weights=np.concatenate((hits, h)), minlength=len(c)).astype(np.int64)
            del inv
        codes, hits = c, h
    codes = codes[hits >= np.minimum(min_hits, lens[codes // n])]
    return np.stack((codes // n, codes % n), axis=1) if len(codes) else _NO_PAIRS


# Items per pass of containment_candidates_ranges (the smaller side's item numbers): one
# pass up to 131,072 items (20,000 articles of bench_vs_by_hand's corpus), five at 100,000.
_CONTAIN_SPAN = 1 << 17


def containment_candidates_ranges(blocks, lens: np.ndarray, min_hits: int, span: int | None = None) -> np.ndarray:
    """:func:`containment_candidates_blocks` over one range of ``span`` items of the rows'
    first column at a time, ``blocks()`` read afresh for each range: a pair's rows all
    fall in its range, and the ranges in order keep the pairs sorted, so the result is
    the same. The running table of distinct pairs and its merges were the cluster step's
    peak at 100,000 articles (+90 MB over its input, 4.8 million rows in the band files);
    a range holds its share of them."""
    span = span or _CONTAIN_SPAN
    if len(lens) <= span:
        return containment_candidates_blocks(blocks(), lens, min_hits)

    def in_range(lo: int):
        for a, b in blocks():
            m = (a >= lo) & (a < lo + span)
            yield a[m], b[m]
    return np.concatenate([_NO_PAIRS] + [containment_candidates_blocks(in_range(lo), lens, min_hits)
                                         for lo in range(0, len(lens), span)])
