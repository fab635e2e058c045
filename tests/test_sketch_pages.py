"""The pair measures drop the sketch files' pages they read (resident file pages count in
a process's RSS: a band task held up to 128 MB of them at 100,000 articles), and never
touch memory that is not a read-only mapping of those files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ketl.dedup import distributed
from ketl.dedup.sketches import SketchStore, SketchWriter

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")


def _write(folder: Path, n: int, perm: int = 64, seed: int = 4) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 6, size=(n, perm), dtype=np.uint32)
    sets = [np.unique(rng.integers(0, 400, size=rng.integers(1, 60))).astype(np.uint32) for _ in range(n)]
    half = n // 2
    for lo, hi in ((0, half), (half, n)):  # two chunk files
        with SketchWriter(folder, lo, perm) as w:
            w.write(sigs[lo:hi], pa.array([s.tolist() for s in sets[lo:hi]], pa.list_(pa.uint32())))
    return sigs, sets


def _resident_kb(files: set[str]) -> int:
    """Rss of this process's mappings of ``files`` (kB)."""
    total, current = 0, None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            current = head[5] if len(head) > 5 else None
        elif head and head[0] == "Rss:" and current in files:
            total += int(head[1])
    return total


@linux
def test_dropping_a_stores_pages_leaves_none_resident_and_reads_the_same(tmp_path):
    sigs, _sets = _write(tmp_path, 6000)
    store = SketchStore.open(tmp_path, 64)
    files = {str(p.resolve()) for p in store.files()}
    pages = distributed._FilePages(store)
    assert len(pages.buffers) == 2  # one mapping per file
    before = store.signatures(np.arange(6000)).sum()  # every page read
    assert _resident_kb(files) > 1000  # 1.5 MB of signatures
    pages.drop()
    assert _resident_kb(files) < 100
    assert store.signatures(np.arange(6000)).sum() == before == sigs.sum()  # read again from the file


def _resident_kb_at(address: int) -> int:
    """Rss (kB) of the one mapping that starts at ``address``."""
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            current = int(head[0].split("-")[0], 16)
        elif head and head[0] == "Rss:" and current == address:
            return int(head[1])
    raise AssertionError(f"no mapping at {address:#x}")


@linux
def test_only_the_stores_own_mappings_are_dropped_not_another_of_the_same_files(tmp_path):
    """Another store of the same files (another thread's, say) keeps its pages: addresses
    found by file name could be another mapping's, or, once that one is unmapped, a new
    array's, which dropping would zero-fill."""
    sigs, _sets = _write(tmp_path, 6000)
    mine, other = SketchStore.open(tmp_path, 64), SketchStore.open(tmp_path, 64)
    pages = distributed._FilePages(mine)
    assert {b.address for b in pages.buffers}.isdisjoint({b.address for b in other.mapped_buffers()})
    assert other.signatures(np.arange(6000)).sum() == sigs.sum()  # every page of the other store read
    theirs = [b.address for b in other.mapped_buffers()]
    before = sum(_resident_kb_at(a) for a in theirs)
    assert before > 1000
    pages.drop()
    assert sum(_resident_kb_at(a) for a in theirs) == before


def test_a_closed_stores_mapping_stays_while_its_pages_are_held(tmp_path):
    """The dropper holds the mappings: a store gone meanwhile cannot hand its addresses to
    fresh memory, and dropping after it is gone reads the same sketches again."""
    import gc

    sigs, _ = _write(tmp_path, 300)
    store = SketchStore.open(tmp_path, 64)
    pages = distributed._FilePages(store)
    del store
    gc.collect()
    pages.drop()  # on addresses still mapped to the files
    again = SketchStore.open(tmp_path, 64)
    assert np.array_equal(again.signatures(np.arange(300)), sigs)
    assert all(b.size > 0 for b in pages.buffers)


def test_pages_held_in_memory_are_never_dropped(tmp_path):
    sigs, _ = _write(tmp_path, 200)
    store = SketchStore(64)
    store.append(sigs.copy())  # in memory only: dropping its pages would zero them
    pages = distributed._FilePages(store)
    assert pages.buffers == []
    pages.drop()
    assert np.array_equal(store.signatures(np.arange(200)), sigs)


@pytest.mark.parametrize("span", [1, 700, 1 << 23])
def test_measures_read_a_span_of_the_files_at_a_time_give_the_mapped_answer(tmp_path, monkeypatch, span):
    """A copy of a chunk's items read ``_SPAN`` bytes at a time (one item a span at worst):
    the same Jaccard and n-gram overlaps as the store mapped once, in the pairs' order."""
    sigs, sets = _write(tmp_path, 300)
    monkeypatch.setattr(distributed, "_SPAN", span)
    rng = np.random.default_rng(8)
    pairs = np.stack([rng.integers(0, 300, 900), rng.integers(0, 300, 900)], axis=1)
    pairs = np.concatenate([pairs, [[0, 299], [299, 0], [7, 7]]])
    once = SketchStore.open(tmp_path, 64)
    want_j = once.jaccard(pairs)
    want_i = np.array([len(np.intersect1d(sets[a], sets[b])) for a, b in pairs])
    assert 0 < (want_i > 0).sum() < len(pairs) and len(np.unique(want_j)) > 3
    for window, chunk in ((16, 50), (1 << 16, 1 << 13)):
        got_j = distributed._by_tiles(tmp_path, 64, 300, pairs, "jaccard", np.float32, window, chunk)
        got_i = distributed._by_tiles(tmp_path, 64, 300, pairs, "intersection_sizes", np.int64, window, chunk)
        assert np.array_equal(got_j, want_j)
        assert np.array_equal(got_i, want_i)


@pytest.mark.parametrize("stored", [0, 3, 9])
def test_item_positions_of_rows_with_repeats_and_stored_ids(stored):
    """Register's item numbers: a stored id keeps its item, a new id takes the next number
    at its first row, a repeat shares it; the new ids come in item order."""
    from ketl.dedup.index import QuoteIndex

    rows = ["q7", "ж1", "q7", "名2", "q0", "ж1", "ا3", "q9", "q0", "名2", "x", "q7"]
    known = list(dict.fromkeys(rows))[:stored]
    idx = QuoteIndex()
    if known:
        idx._id_chunks.append(pa.array(known, pa.string()))
        idx._n = len(known)
    pos, new_rows, new_ids = idx._positions(pa.array(rows, pa.string()))
    items = {k: i for i, k in enumerate(known)}
    want_new = []
    for r, k in enumerate(rows):
        if k not in items:
            items[k] = len(items)
            want_new.append(r)
    assert pos.tolist() == [items[k] for k in rows]
    assert new_rows.tolist() == want_new
    assert new_ids.to_pylist() == [rows[r] for r in want_new]


def test_live_clusters_of_the_whole_index_in_item_order_equal_the_look_up():
    """A first run's quotes table lists every item in item order: its clusters are read
    without looking each id up; the answer must be the look-up's."""
    from test_dedup import _table
    from test_dedup_distributed import _rows

    from ketl.dedup.index import QuoteIndex

    idx = QuoteIndex()
    idx.add(_table(_rows()))
    ids = idx._ids().combine_chunks()
    fast_id, fast_size = idx.live_clusters(ids)
    # one id the index does not hold: the look-up path, whose first rows are the same ids
    slow_id, slow_size = idx.live_clusters(pa.concat_arrays([ids, pa.array(["not indexed"])]))
    assert fast_id.equals(slow_id.slice(0, len(ids))) and fast_size.equals(slow_size.slice(0, len(ids)))
    assert slow_id[len(ids)].as_py() is None
    sizes = fast_size.to_pylist()
    assert max(sizes) > 2 and min(sizes) == 1  # clusters and lone quotes both checked
    # rows replaced: a subset names each cluster by its earliest live member
    part = ids.slice(3)
    sub_id, sub_size = idx.live_clusters(part)
    assert sum(sub_size.to_pylist()) <= sum(sizes) and len(sub_id) == len(part)
