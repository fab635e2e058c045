"""The link step streams the band tasks' pairs into the clustering instead of merging them first.

``cluster_blocks`` must give exactly :func:`ketl.dedup.lsh.cluster` over the merged
pairs (``merge_pairs``, then the containment pairs), whatever the blocks' order,
repeats and split: the clusters, and in a component bridging two old clusters the
weighted Kruskal order (equal weights: the merged order), which decides the
representative a new item joins and so its cluster id.
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from ketl.dedup import distributed
from ketl.dedup.index import QuoteIndex, merge_pairs
from ketl.dedup.lsh import GRAM_PARTS, Components, cluster, cluster_blocks, containment_candidates, \
    containment_candidates_blocks, containment_candidates_ranges

NO_EXTRA = (np.empty((0, 2), np.int64), np.empty(0, np.float32))


def _reference(n, first_new, old_root, blocks, extra):
    """What the link step did before streaming: every shard's pairs merged, then the containment pairs."""
    pairs, weights = merge_pairs(blocks)
    return cluster(n, first_new, old_root, np.concatenate((pairs, extra[0])), np.concatenate((weights, extra[1])))


def test_a_new_item_bridging_two_old_clusters_joins_the_first_pair_of_the_merged_order_on_equal_weights():
    # Old clusters {0, 1} (root 0) and {2, 3} (root 2); new item 4 is as close to 1 as to 3.
    old_root = np.array([0, 0, 2, 2])
    first = (np.array([[3, 4]]), np.array([0.8], np.float32))  # the shard read first holds (3, 4)
    second = (np.array([[1, 4]]), np.array([0.8], np.float32))
    blocks = [first, second]
    want = _reference(5, 4, old_root, blocks, NO_EXTRA)
    assert want.tolist() == [0]  # the merged order is (1, 4) before (3, 4): read in shard order, 4 would join 2
    assert cluster_blocks(5, 4, old_root, lambda: iter(blocks), NO_EXTRA).tolist() == [0]
    # A containment pair as strong as a band pair comes after it (in the merged order it follows them all).
    band = [(np.array([[3, 4]]), np.array([0.9], np.float32))]
    extra = (np.array([[1, 4]]), np.array([0.9], np.float32))
    assert _reference(5, 4, old_root, band, extra).tolist() == [2]
    assert cluster_blocks(5, 4, old_root, lambda: iter(band), extra).tolist() == [2]
    # A stronger pair wins whatever the order.
    extra = (np.array([[1, 4]]), np.array([0.95], np.float32))
    assert cluster_blocks(5, 4, old_root, lambda: iter(band), extra).tolist() == [0]


def _random_case(rng: random.Random, n_old: int, n_new: int):
    """Old clusters (roots: earliest member), verified pairs with tied weights, split into
    shuffled blocks where a pair repeats (a pair is found by every band it shares)."""
    old_root = np.arange(n_old)
    for i in range(n_old):
        if i and rng.random() < 0.6:
            old_root[i] = old_root[rng.randrange(i)]
    n = n_old + n_new
    pairs = set()
    for _ in range(rng.randrange(1, 3 * n_new + 2)):
        b = rng.randrange(n_old, n)
        if b:
            pairs.add((rng.randrange(b), b))
    pairs = sorted(pairs)
    weight = {p: rng.choice([0.5, 0.7, 0.7, 0.9, 1.0]) for p in pairs}
    blocks = [[] for _ in range(rng.randrange(1, 6))]
    for p in pairs:
        for blk in rng.sample(range(len(blocks)), rng.randrange(1, len(blocks) + 1)):
            blocks[blk].append(p)
    out = []
    for blk in blocks:
        rng.shuffle(blk)
        arr = np.array(blk, np.int64).reshape(-1, 2)
        out.append((arr, np.array([weight[tuple(p)] for p in blk], np.float32)))
    extra = sorted({(rng.randrange(n), rng.randrange(n_old, n)) for _ in range(rng.randrange(0, n_new))})
    extra = np.array([sorted(p) for p in extra if p[0] != p[1]], np.int64).reshape(-1, 2)
    return old_root, out, (extra, np.array([rng.choice([0.8, 0.9, 1.0]) for _ in extra], np.float32))


# Pairs joined per step, and the graphs' sizes. Cut into slices of 3 pairs, every slice is a
# scipy call: graphs of up to 12 old and 12 new items (up to 38 pairs, a dozen slices)
# still bridge old clusters in most cases and tie weights, and took 1.2 s where graphs
# of up to 30 and 30 took 5 s.
@pytest.mark.parametrize("edges, size, cases", [(3, 12, 200), (1 << 18, 30, 400)])
def test_streamed_clusters_equal_the_merged_ones_on_random_graphs(monkeypatch, edges, size, cases):
    from ketl.dedup import lsh

    monkeypatch.setattr(lsh, "_EDGES", edges)  # pairs joined per step: a block is cut into slices
    rng = random.Random(15)
    bridged = weighed_cases = 0
    for case in range(cases):
        n_old, n_new = rng.randrange(0, size), rng.randrange(1, size)
        old_root, blocks, extra = _random_case(rng, n_old, n_new)
        want = _reference(n_old + n_new, n_old, old_root, blocks, extra)
        got = cluster_blocks(n_old + n_new, n_old, old_root, lambda: iter(blocks), extra)
        assert got.tolist() == want.tolist(), case
        # the cases a wrong tie order would change: the shards read in reverse give the same
        assert cluster_blocks(n_old + n_new, n_old, old_root, lambda: reversed(blocks), extra).tolist() \
            == want.tolist(), case
        roots = {int(old_root[r]) for r in want if r < n_old}
        bridged += len(roots) >= 2
        # the link step's way: the pairs alone for the component passes, the weights once
        # at most (only a component bridging two old clusters reads them)
        weight_reads = []

        def weighed():
            weight_reads.append(1)
            return iter(blocks)
        got = cluster_blocks(n_old + n_new, n_old, old_root, weighed, extra, lambda: (p for p, _ in blocks))
        assert got.tolist() == want.tolist(), case
        assert len(weight_reads) <= (1 if len(set(old_root.tolist())) >= 2 else 0), case
        weighed_cases += len(weight_reads)
    assert bridged > cases // 4  # many cases reach old clusters, so Kruskal's order is exercised
    assert 0 < weighed_cases < cases  # the weights were read where Kruskal ran, and only there


def test_components_fed_in_blocks_equal_one_pass():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(3)
    m = 500
    a, b = rng.integers(0, m, 700), rng.integers(0, m, 700)
    comps = Components(m)
    for lo in range(0, 700, 90):
        comps.add(a[lo:lo + 90], b[lo:lo + 90])
    _, labels = connected_components(coo_matrix((np.ones(700), (a, b)), shape=(m, m)), directed=False)
    low = np.full(labels.max() + 1, m)
    np.minimum.at(low, labels, np.arange(m))
    assert comps.label.tolist() == low[labels].tolist()
    assert len(set(comps.label.tolist())) < m - 100  # the edges did join nodes


def test_containment_candidates_counted_block_by_block_equal_all_rows_at_once():
    rng = np.random.default_rng(7)
    n = 300
    lens = rng.integers(0, 12, n)
    a, b = rng.integers(0, n, 5000), rng.integers(0, n, 5000)
    keep = a != b
    a, b = a[keep], b[keep]
    want = containment_candidates(a, b, lens, 2)
    cuts = [0, 7, 1000, 1001, 3500, len(a)]
    got = containment_candidates_blocks(((a[lo:hi], b[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:])), lens, 2)
    assert len(want) > 100 and got.tolist() == want.tolist()
    # a range of the first column's items at a time, the blocks read again for each range
    reads = []

    def blocks():
        reads.append(1)
        return ((a[lo:hi], b[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:]))
    for span in (1, 37, 128, n):
        reads.clear()
        got = containment_candidates_ranges(blocks, lens, 2, span)
        assert got.tolist() == want.tolist(), span
        assert len(reads) == -(-n // span)


@pytest.mark.parametrize("shards,tile", [(3, 1 << 15), (8, 7)])
def test_link_reading_the_shard_files_equals_link_on_their_results_across_runs(tmp_path, monkeypatch, shards, tile):
    """What a run does (each band task's result left in a file, read a shard at a time) against
    the results in memory and NearDupIndex.add, over two runs so new quotes join stored
    clusters; with tiles of 7 items every measure spans many tiles and blocks."""
    from test_dedup import _table
    from test_dedup_distributed import _parts, _rows

    from ketl.dedup import index as index_module, lsh

    rows = _rows()
    runs = [rows[:70], rows[70:] + rows[:4]]
    memory_dir, expected = tmp_path / "memory", []
    for run in runs:
        index = QuoteIndex.load(memory_dir)
        expected.append(index.add(_table(run)))
        index.save(memory_dir)
    monkeypatch.setattr(distributed, "_TILE", tile)
    monkeypatch.setattr(distributed, "_LINK_TILE", tile)
    monkeypatch.setattr(distributed, "_BLOCK", tile)
    monkeypatch.setattr(lsh, "_CONTAIN_SPAN", tile)  # containment candidates in ranges of items too
    monkeypatch.setattr(distributed, "_PAIR_ROWS", tile)  # a band file's pairs read in slices too
    monkeypatch.setattr(index_module, "_SIM_BLOCK", tile)  # and similarities measured in blocks
    old = None
    for k, run in enumerate(runs):
        new, work = tmp_path / f"state-{k}", tmp_path / f"work-{k}"
        plan = distributed.register(QuoteIndex, "q", old, new, work, _parts(work, QuoteIndex, run, "part", 9))
        results, files = [], []
        for s in range(shards):
            r = distributed.band_shard(QuoteIndex, plan, distributed.shard_bands(32, s, shards),
                                       gram_parts=distributed.shard_bands(GRAM_PARTS, s, shards))
            path = work / f"pairs-{s}.npz"
            np.savez(path, pairs=r.pairs, weights=r.weights, anchor_rows=r.anchor_rows)
            results.append(r)
            files.append(distributed.ShardFile(path))
        _, from_files = distributed.link(QuoteIndex, plan, files)
        _, in_memory = distributed.link(QuoteIndex, plan, results)
        assert from_files.equals(in_memory), k
        assert from_files.equals(expected[k]), k
        ids, cids = from_files.column("quote_id").to_pylist(), from_files.column("cluster_id").to_pylist()
        assert sum(q != c for q, c in zip(ids, cids)) > 10  # quotes were clustered
        if k:
            stored = set(pa.concat_arrays([c for c in QuoteIndex.load(old)._ids().chunks]).to_pylist())
            assert any(c in stored and q not in stored for q, c in zip(ids, cids))  # a new quote joined an old one
        old = new


@pytest.mark.parametrize("n", [0, 1, 9, 1000])
def test_a_band_files_pairs_read_in_slices_are_its_pairs(tmp_path, n):
    path = tmp_path / "pairs.npz"
    pairs = np.random.default_rng(n).integers(0, 1 << 40, (n, 2))
    np.savez(path, pairs=pairs, weights=np.ones(n, np.float32), anchor_rows=np.zeros((3, 2), np.int64))
    for rows in (1, 7, 1 << 18):
        got = list(distributed.ShardFile(path).pair_slices(rows))
        assert all(len(g) <= rows for g in got)
        whole = np.concatenate(got) if got else np.empty((0, 2), np.int64)
        assert whole.dtype == pairs.dtype and whole.tolist() == pairs.tolist()


def test_a_shard_in_memory_and_its_file_give_the_same_pairs(tmp_path):
    # what the link step reads from either kind of band task result (ShardResult / ShardFile)
    rng = np.random.default_rng(5)
    pairs = np.sort(rng.integers(0, 1 << 33, (2000, 2)), axis=1)
    result = distributed.ShardResult(pairs, np.ones(len(pairs), np.float32), np.zeros((0, 2), np.int64))
    path = tmp_path / "pairs.npz"
    with distributed._Found(path) as found:  # the band task's own writer
        found.add("pairs", pairs[:700])
        found.add("pairs", pairs[700:])
        shard = found.result()
    assert isinstance(shard, distributed.ShardFile)
    in_memory = list(result.pair_slices(64))
    from_file = list(shard.pair_slices(64))
    assert len(in_memory) == 1 and len(from_file) == -(-len(pairs) // 64)
    assert np.concatenate(from_file).tolist() == in_memory[0].tolist() == pairs.tolist()
    # a file another writer compressed cannot be read a slice at a time: read whole, same pairs
    np.savez_compressed(tmp_path / "z.npz", pairs=pairs, weights=result.weights, anchor_rows=result.anchor_rows)
    whole = list(distributed.ShardFile(tmp_path / "z.npz").pair_slices(64))
    assert np.concatenate(whole).tolist() == pairs.tolist()
