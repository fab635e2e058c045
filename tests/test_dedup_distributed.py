"""The run's dedup split into tasks (register, band shards, link) equals NearDupIndex.add."""

import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_dedup import _seed_quotes, _table, _variants

from ketl.dedup import distributed
from ketl.dedup.index import ArticleIndex, QuoteIndex, _META_KEY, sketch_table
from ketl.dedup.lsh import GRAM_PARTS, BandTable


def _rows():
    rng = random.Random(5)
    rows = _seed_quotes()
    rows += [(f"v{k}-{name}", "var", v) for k, r in enumerate(rows) if len(r[2].split()) >= 8
             for name, v in _variants(r[2], rng).items()]
    rng.shuffle(rows)
    return rows


def _parts(tmp, cls, rows, name, size):
    """Rows as the finish tasks leave them: Parquet parts with the id and sketch columns."""
    paths = []
    tmp.mkdir(parents=True, exist_ok=True)
    settings = cls.default_settings
    for k in range(0, len(rows), size):
        chunk = rows[k:k + size]
        sk = sketch_table([r[2] for r in chunk], settings)
        path = tmp / f"{name}-{k:05d}.parquet"
        pq.write_table(pa.table({cls.id_column: [r[0] for r in chunk], "signature": sk["signature"],
                                 "grams": sk["grams"]}), path)
        paths.append(path)
    return paths


def _distributed_run(tmp, cls, rows, old, new, shards, size=13):
    work = tmp / f"work-{new.name}"
    plan = distributed.register(cls, "q", old, new, work, _parts(work, cls, rows, "part", size))
    bands = cls.default_settings.bands
    pairs = [distributed.band_shard(cls, plan, distributed.shard_bands(bands, s, shards),
                                    gram_parts=distributed.shard_bands(GRAM_PARTS, s, shards))
             for s in range(shards)]
    return plan, distributed.link(cls, plan, pairs)


@pytest.mark.parametrize("shards", [1, 3, 32])
def test_distributed_runs_equal_in_memory_add(tmp_path, shards):
    rows = _rows()
    # Run 2 repeats some of run 1's ids (a changed file read again): they keep their items.
    runs = [rows[:40], rows[40:75] + rows[:7], rows[75:]]
    assert all(runs) and len(rows) > 100
    memory_dir = tmp_path / "memory"
    expected = []
    for run in runs:
        index = QuoteIndex.load(memory_dir)
        expected.append(index.add(_table(run)))
        index.save(memory_dir)
    old = None
    for k, run in enumerate(runs):
        new = tmp_path / f"state-{k}"
        plan, (index, got) = _distributed_run(tmp_path, QuoteIndex, run, old, new, shards)
        assert got.equals(expected[k]), f"run {k}"
        assert plan.n - plan.n_old == len({r[0] for r in run} - {r[0] for kk in range(k) for r in runs[kk]})
        old = new
    # The stored index is the same, and loads whole for add() (bands included).
    assert QuoteIndex.load(old).to_table().equals(QuoteIndex.load(memory_dir).to_table())
    loaded, memory = QuoteIndex.load(old), QuoteIndex.load(memory_dir)
    assert loaded._bands.to_table().equals(memory._bands.to_table())
    clustered = sum(1 for t in expected for q, c in zip(t["quote_id"].to_pylist(), t["cluster_id"].to_pylist())
                    if q != c)
    assert clustered > 40  # the variants really cluster: the comparison is not between empty results


@pytest.mark.parametrize("block", [1, 5, 64])
def test_band_shards_in_blocks_of_new_items_equal_in_memory_add(tmp_path, monkeypatch, block):
    """A band task takes the run's new items a block at a time (its memory is a block's,
    not the run's): every block size gives NearDupIndex.add's result, over two runs,
    and link takes the shards' results one at a time (a generator)."""
    rows = _rows()
    runs = [rows[:60], rows[60:] + rows[:5]]
    memory_dir, expected = tmp_path / "memory", []
    for run in runs:
        index = QuoteIndex.load(memory_dir)
        expected.append(index.add(_table(run)))
        index.save(memory_dir)
    monkeypatch.setattr(distributed, "_BLOCK", block)
    old = None
    for k, run in enumerate(runs):
        new = tmp_path / f"state-{k}"
        work = tmp_path / f"work-{k}"
        plan = distributed.register(QuoteIndex, "q", old, new, work, _parts(work, QuoteIndex, run, "part", 11))
        shards = (distributed.band_shard(QuoteIndex, plan, distributed.shard_bands(32, s, 3),
                                         gram_parts=distributed.shard_bands(GRAM_PARTS, s, 3)) for s in range(3))
        _, got = distributed.link(QuoteIndex, plan, shards)
        assert got.equals(expected[k]), f"run {k}"
        old = new
    assert sum(1 for t in expected for q, c in zip(t["quote_id"].to_pylist(), t["cluster_id"].to_pylist())
               if q != c) > 20  # clusters were found: the equality is not between empty results
    loaded, memory = QuoteIndex.load(old), QuoteIndex.load(memory_dir)
    assert loaded._bands.to_table().equals(memory._bands.to_table())


def test_distributed_articles_give_near_duplicate_of(tmp_path):
    texts = [p for r in _seed_quotes() for p in [r[2]]]
    long_texts = [" ".join(texts[k:k + 6]) for k in range(0, len(texts) - 6, 6)]
    rows = [(f"a{k}", "a", t) for k, t in enumerate(long_texts)]
    rows += [(f"r{k}", "r", t + " Reprinted.") for k, t in enumerate(long_texts)]
    expected = ArticleIndex().add(pa.table({"doc_id": [r[0] for r in rows], "text": [r[2] for r in rows]}))
    _, (_, got) = _distributed_run(tmp_path, ArticleIndex, rows, None, tmp_path / "s", shards=4, size=3)
    assert got.equals(expected)
    assert got["near_duplicate_of"].null_count == len(long_texts)
    assert got["near_duplicate_of"].to_pylist()[len(long_texts):] == [r[0] for r in rows[:len(long_texts)]]


def test_shard_holds_only_its_bands_and_reads_only_pair_signatures(tmp_path):
    rows = _rows()
    work = tmp_path / "work"
    plan = distributed.register(QuoteIndex, "q", None, tmp_path / "s", work,
                                _parts(work, QuoteIndex, rows, "p", 50))
    distributed.band_shard(QuoteIndex, plan, [0, 5])
    bands = sorted(p.name for p in QuoteIndex.paths(tmp_path / "s").bands.iterdir())
    assert bands == ["band-000.parquet", "band-005.parquet"]
    # One sketch file for the run, memory-mapped: the shard's verification reads a few rows.
    (sketch_file,) = QuoteIndex.paths(tmp_path / "s").sketches.glob("*.arrow")
    assert pa.ipc.open_file(sketch_file).read_all().num_rows == plan.n == len({r[0] for r in rows})


def _as_format_2(state, cls):
    """Rewrite a saved index in the layout of ketl 0.1 (signatures inline, one bands file)."""
    paths = cls.paths(state)
    index = cls.load(state)
    main = pq.read_table(paths.main)
    sigs = pa.chunked_array([pa.ipc.open_file(f).read_all().column("signature").combine_chunks()
                             for f in index._sketches.files()])
    meta = json.loads(main.schema.metadata[_META_KEY])
    meta["format"] = 2
    table = main.select(["id", "cluster_id", "similarity"]).append_column("signature", sigs).append_column(
        "n_grams", main.column("n_grams"))
    pq.write_table(table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()}), paths.main)
    pq.write_table(index._bands.to_table(), paths.legacy_bands)
    pq.write_table(index._grams.to_table(), paths.legacy_grams)
    for folder in (paths.sketches, paths.bands, paths.grams):
        if not folder.exists():  # articles have no n-grams
            continue
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()


def test_format_2_index_loads_and_migrates(tmp_path):
    rows = _rows()
    first, later = rows[:60], rows[60:]
    index = QuoteIndex()
    index.add(_table(first))
    index.save(tmp_path / "old")
    expected = QuoteIndex.load(tmp_path / "old").add(_table(later))
    _as_format_2(tmp_path / "old", QuoteIndex)
    assert QuoteIndex.stored_format(tmp_path / "old") == 2
    # In memory: loads, adds the same, saves as format 3.
    legacy = QuoteIndex.load(tmp_path / "old")
    assert legacy.add(_table(later)).equals(expected)
    legacy.save(tmp_path / "upgraded")
    assert QuoteIndex.stored_format(tmp_path / "upgraded") == 3
    # Distributed: register converts it in the work folder; same result.
    _, (_, got) = _distributed_run(tmp_path, QuoteIndex, later, tmp_path / "old", tmp_path / "new", shards=4)
    assert got.equals(expected)
    assert QuoteIndex.load(tmp_path / "new").to_table().equals(QuoteIndex.load(tmp_path / "upgraded").to_table())


def test_band_table_shards_equal_whole():
    rng = np.random.default_rng(0)
    keys = rng.integers(1, 50, size=(400, 8), dtype=np.uint64)
    whole = BandTable(8)
    expected = np.concatenate([whole.add(keys[:150], 0), whole.add(keys[150:], 150)])
    shards = [BandTable(8) for _ in range(3)]
    got = []
    for first, chunk in ((0, keys[:150]), (150, keys[150:])):
        parts = [s.add_band(b, chunk[:, b], first) for s in shards for b in distributed.shard_bands(8, shards.index(s), 3)]
        from ketl.dedup.lsh import _unique_pairs
        got.append(_unique_pairs(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])))
    assert len(expected) > 100 and np.array_equal(np.concatenate(got), expected)


def test_gram_partitions_cover_every_value():
    """The n-gram value ranges split the index without losing a value (the top
    range ends at 2**32) and their group-by rows are the whole index's."""
    from ketl.dedup.lsh import GramIndex, gram_part_range

    rng = np.random.default_rng(1)
    pool = np.concatenate((rng.integers(0, 2**32, 150, dtype=np.uint64),
                           [0, 1, 2**31, 2**32 - 2, 2**32 - 1], rng.integers(2**32 - 2**27, 2**32, 20, dtype=np.uint64)))
    sets = [np.unique(rng.choice(pool, rng.integers(2, 30))) for _ in range(300)]
    values = np.concatenate(sets).astype(np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in sets])))
    assert gram_part_range(GRAM_PARTS - 1)[1] == 2**32
    args = dict(anchors=4, min_size=3, max_group=64)
    whole, parts = GramIndex(), [GramIndex() for _ in range(GRAM_PARTS)]
    rows_whole, rows_parts = [], []
    for lo, hi in ((0, 200), (200, 300)):  # two runs: new against stored too
        v, o = values[offsets[lo]:offsets[hi]], offsets[lo:hi + 1] - offsets[lo]
        rows_whole.append(np.stack(whole.add_raw(v, o, lo, **args), axis=1))
        rows_parts += [np.stack(p.add_raw(v, o, lo, part=k, **args), axis=1) for k, p in enumerate(parts)]
    assert len(whole) == len(values)
    assert np.array_equal(np.concatenate([p.codes for p in parts]), whole.codes)
    assert np.array_equal(np.concatenate([whole.part(k).codes for k in range(GRAM_PARTS)]), whole.codes)
    got, expected = np.concatenate(rows_parts), np.concatenate(rows_whole)
    assert len(expected) > 100
    assert np.array_equal(np.unique(got, axis=0, return_counts=True)[1], np.unique(expected, axis=0, return_counts=True)[1])
    assert np.array_equal(np.unique(got, axis=0), np.unique(expected, axis=0))


def test_intersections_from_stored_sets_are_exact():
    from ketl.dedup.sketches import SketchStore

    rng = np.random.default_rng(2)
    sets = [np.unique(rng.integers(0, 60, rng.integers(0, 25))).astype(np.uint32) for _ in range(120)]
    store = SketchStore(4)
    for lo, hi in ((0, 50), (50, 120)):  # two chunks
        grams = pa.array([s.tolist() for s in sets[lo:hi]], pa.list_(pa.uint32()))
        store.append(np.zeros((hi - lo, 4), np.uint32), grams)
    pairs = rng.integers(0, 120, size=(500, 2))
    expected = [len(set(sets[a].tolist()) & set(sets[b].tolist())) for a, b in pairs]
    assert store.intersection_sizes(pairs).tolist() == expected
    assert store.gram_lengths(30, 90).tolist() == [len(s) for s in sets[30:90]]


def test_many_runs_merge_their_sketch_files(tmp_path, monkeypatch):
    """Each run adds a sketch file; past MAX_SKETCH_FILES a run merges all but the
    first, without touching the earlier snapshot's files; results are unchanged."""
    monkeypatch.setattr(distributed, "MAX_SKETCH_FILES", 3)
    rows = _rows()
    runs = [rows[k:k + 12] for k in range(0, len(rows), 12)]
    assert len(runs) >= 6
    memory_dir, old = tmp_path / "memory", None
    counts = []
    for k, run in enumerate(runs):
        index = QuoteIndex.load(memory_dir)
        expected = index.add(_table(run))
        index.save(memory_dir)
        new = tmp_path / f"state-{k}"
        before = {f: f.stat().st_ino for f in QuoteIndex.paths(old).sketches.iterdir()} if old else {}
        _, (_, got) = _distributed_run(tmp_path, QuoteIndex, run, old, new, shards=2, size=5)
        assert got.equals(expected), f"run {k}"
        assert {f: f.stat().st_ino for f in before} == before  # the earlier snapshot is intact
        counts.append(len(list(QuoteIndex.paths(new).sketches.glob("*.arrow"))))
        old = new
    assert max(counts) <= 3 and counts[:3] == [1, 2, 3] and counts[3] == 3 - 1 + 1
    assert QuoteIndex.load(old).to_table().equals(QuoteIndex.load(memory_dir).to_table())
    assert len(QuoteIndex.load(old)) == len({r[0] for r in rows})


def test_the_link_steps_block_mapped_sketches_answer_as_the_store_mapped_once(tmp_path):
    """The link step maps the sketch files anew per block of pairs (their pages leave the
    process with the block): the answers must be the once-mapped store's, across chunk files."""
    from ketl.dedup.sketches import SketchStore, SketchWriter

    rng = np.random.default_rng(15)
    n, perm = 40, 16
    sigs = rng.integers(0, 4, size=(n, perm), dtype=np.uint32)  # few values: many equal positions
    sets = [np.unique(rng.integers(0, 30, size=rng.integers(0, 12))).astype(np.uint32) for _ in range(n)]
    for first, stop in ((0, 25), (25, n)):  # two chunk files, as after a stored run and a new one
        with SketchWriter(tmp_path, first, perm) as w:
            w.write(sigs[first:stop], pa.array([s.tolist() for s in sets[first:stop]], pa.list_(pa.uint32())))
    pairs = np.array([(a, b) for a in range(n) for b in range(a + 1, n) if (a * 7 + b) % 5 == 0], np.int64)
    once = SketchStore.open(tmp_path, perm, upto=n)
    blocks = distributed.BlockMapped(tmp_path, perm, n, block=7)
    assert len(pairs) > 3 * 7  # several blocks
    assert np.array_equal(blocks.jaccard(pairs), once.jaccard(pairs))
    want = np.array([len(np.intersect1d(sets[a], sets[b])) for a, b in pairs])
    assert np.array_equal(blocks.intersection_sizes(pairs), want)
    assert np.array_equal(once.intersection_sizes(pairs), want)
    assert blocks.intersection_sizes(pairs[:0]).shape == (0,) and blocks.files() == once.files()


@pytest.mark.parametrize("window", [3, 16, 1 << 16])
def test_pairs_measured_tile_by_tile_equal_one_mapping(tmp_path, window):
    """The band and link steps map the sketch files anew per tile of pairs (their peak RSS
    no longer grows with the run's signatures): same Jaccard and n-gram overlaps, in order."""
    from ketl.dedup.sketches import SketchStore, SketchWriter

    rows = _rows()
    settings = QuoteIndex.default_settings
    sk = sketch_table([r[2] for r in rows], settings)
    folder = tmp_path / "sketches"
    with SketchWriter(folder, 0, settings.num_perm) as w:  # two files, as after a second run
        w.write(sk["signature"].combine_chunks()[:20], sk["grams"].combine_chunks()[:20])
    with SketchWriter(folder, 20, settings.num_perm) as w:
        w.write(sk["signature"].combine_chunks()[20:], sk["grams"].combine_chunks()[20:])
    n = len(rows)
    rng = np.random.default_rng(3)
    pairs = np.stack([rng.integers(0, n, 500), rng.integers(0, n, 500)], axis=1)
    pairs = np.concatenate([pairs, [[0, 1], [n - 1, 0], [5, 5]]])
    whole = SketchStore.open(folder, settings.num_perm, upto=n)
    want_j, want_i = whole.jaccard(pairs), whole.intersection_sizes(pairs)
    assert (want_j == 1).sum() >= 3 and 0 < (want_i > 0).sum() < len(pairs)  # not all equal or all zero
    mapped = distributed.BlockMapped(folder, settings.num_perm, n, block=window)
    assert np.array_equal(mapped.jaccard(pairs), want_j)
    assert np.array_equal(mapped.intersection_sizes(pairs), want_i)
    assert len(mapped.jaccard(np.empty((0, 2), np.int64))) == 0
    chunked = distributed._by_tiles(folder, settings.num_perm, n, pairs, "intersection_sizes", np.int64, window, 7)
    assert np.array_equal(chunked, want_i)  # a tile's pairs a few at a time
