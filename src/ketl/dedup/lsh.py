"""LSH banding as a group-by, candidate verification, containment, union-find.

Everything here works on plain numpy arrays (rows = items in processing
order), so each step maps onto a Dask/Arrow group-by: band keys are one
uint64 column per (item, band) with the band number mixed into the key, and
candidates come from grouping rows by that key.
"""

from __future__ import annotations

import numpy as np

from ketl.dedup.minhash import EMPTY
from ketl.dedup.shingles import _fmix64

__all__ = ["band_keys", "lsh_candidates", "estimated_jaccard", "containment_candidates",
           "intersection_sizes", "cluster"]

_ROW_MULT = np.uint64(0x9E3779B97F4A7C15)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 keys; equal key <=> equal band (up to 2**-64).

    An empty signature gets key 0 in every band, which callers drop, so texts
    without shingles never become candidates.
    """
    n = len(sigs)
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need more than {sigs.shape[1]} perms")
    v = sigs[:, :bands * rows].reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        k = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93),
                            (n, bands)).copy()
        for r in range(rows):
            k ^= v[:, :, r]
            k = _fmix64(k * _ROW_MULT)
    k[k == 0] = 1  # 0 is the "no key" marker (a real 0 has probability 2**-64)
    k[(sigs == EMPTY).all(axis=1)] = 0
    return k


def _group_pairs(keys: np.ndarray, items: np.ndarray, first_new: int,
                 max_group: int | None = None) -> np.ndarray:
    """Pairs ``(earlier, later)`` of items sharing a key, ``later >= first_new``.

    Each row is paired with the first (earliest) row of its group and with the
    row before it: O(rows) pairs whatever the group sizes, and since every
    pair is verified, a chain of unrelated items cannot form.
    """
    order = np.lexsort((items, keys))
    k, it = keys[order], items[order]
    same = k[1:] == k[:-1]
    if not same.any():
        return np.empty((0, 2), dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sizes = np.diff(np.append(starts, len(k)))
    group_first = np.repeat(it[starts], sizes)
    prev = np.concatenate((it[:1], it[:-1]))
    ok = np.concatenate(([False], same))
    if max_group is not None:
        ok &= np.repeat(sizes <= max_group, sizes)
    later = it[ok]
    pairs = np.concatenate((np.stack((group_first[ok], later), axis=1),
                            np.stack((prev[ok], later), axis=1)))
    pairs = pairs[(pairs[:, 1] >= first_new) & (pairs[:, 0] != pairs[:, 1])]
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def lsh_candidates(keys: np.ndarray, first_new: int) -> np.ndarray:
    """Candidate pairs from ``(n, bands)`` band keys (rows before ``first_new`` are old)."""
    n, bands = keys.shape
    flat = keys.ravel()
    items = np.repeat(np.arange(n, dtype=np.int64), bands)
    live = flat != 0
    return _group_pairs(flat[live], items[live], first_new)


def estimated_jaccard(sigs: np.ndarray, pairs: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
    """Fraction of equal signature positions for each pair (datasketch's estimate)."""
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), chunk):
        p = pairs[s:s + chunk]
        out[s:s + chunk] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return out


def intersection_sizes(values: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``|set(i) & set(j)|`` for each pair, sets given as CSR of *unique* values."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    lens = offsets[1:] - offsets[:-1]
    pid_parts, val_parts = [], []
    for side in (0, 1):
        it = pairs[:, side]
        ln = lens[it]
        pid = np.repeat(np.arange(len(pairs)), ln)
        # Positions of every member of every set, without a Python loop.
        pos = np.arange(ln.sum()) - np.repeat(np.cumsum(ln) - ln, ln) + np.repeat(offsets[it], ln)
        pid_parts.append(pid)
        val_parts.append(values[pos])
    pid = np.concatenate(pid_parts)
    val = np.concatenate(val_parts)
    order = np.lexsort((val, pid))
    pid, val = pid[order], val[order]
    dup = (pid[1:] == pid[:-1]) & (val[1:] == val[:-1])
    return np.bincount(pid[1:][dup], minlength=len(pairs))


def containment_candidates(values: np.ndarray, offsets: np.ndarray, anchors: int,
                           min_size: int, first_new: int, max_group: int) -> np.ndarray:
    """Pairs where a small set's anchors (its ``anchors`` smallest values) occur in another set.

    If set S is contained in L, S's smallest values are in L too, so grouping
    anchor rows with all rows by value finds every such pair. Values shared by
    more than ``max_group`` sets (stock phrases) are not used as anchors.
    Returns ``(i, j)`` with ``i`` the smaller set (the one contained).
    """
    n = len(offsets) - 1
    lens = offsets[1:] - offsets[:-1]
    items = np.repeat(np.arange(n, dtype=np.int64), lens)
    # Values are sorted per set, so the first `anchors` of each are its anchors.
    rank = np.arange(len(values)) - np.repeat(offsets[:-1], lens)
    is_anchor = (rank < anchors) & (np.repeat(lens, lens) >= min_size)
    order = np.lexsort((~is_anchor, items, values))
    v, it, anc = values[order], items[order], is_anchor[order]
    bounds = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1], [True])))
    sizes = np.diff(bounds)
    gid = np.repeat(np.arange(len(sizes)), sizes)
    useful = (sizes > 1) & (sizes <= max_group)
    keep = useful[gid]
    if not keep.any():
        return np.empty((0, 2), dtype=np.int64)
    # Pair every anchor row with every other row of its group (groups are small).
    v, it, anc, gid = v[keep], it[keep], anc[keep], gid[keep]
    a_idx = np.flatnonzero(anc)
    g_start = np.searchsorted(gid, gid[a_idx], side="left")
    g_end = np.searchsorted(gid, gid[a_idx], side="right")
    cnt = g_end - g_start
    small = np.repeat(it[a_idx], cnt)
    other = it[np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(g_start, cnt)]
    pairs = np.stack((small, other), axis=1)
    pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & ((pairs[:, 0] >= first_new) | (pairs[:, 1] >= first_new))]
    # The contained set must not be the larger one.
    pairs = pairs[lens[pairs[:, 0]] <= lens[pairs[:, 1]]]
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def cluster(n: int, first_new: int, old_root: np.ndarray, pairs: np.ndarray,
            weights: np.ndarray) -> np.ndarray:
    """Union-find over verified pairs; returns the root (earliest member) of every new item.

    Old items keep their clusters (``old_root``, an index < first_new) and two
    old clusters are never merged, so a cluster id never changes; a new item
    bridging two old clusters joins the one it is most similar to (pairs are
    applied strongest first, as in Kruskal's algorithm).
    """
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
        # A root stays the earliest member: an old root always wins.
        parent[hi] = lo
    return np.fromiter((find(i) for i in range(first_new, n)), dtype=np.int64, count=n - first_new)
