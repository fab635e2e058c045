import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import LeanMinHash, MinHash

from ketl.dedup.index import ArticleIndex, QuoteIndex, sketch_table
from ketl.dedup.minhash import SCHEME, permutations, signatures
from ketl.dedup.shingles import ShingleSettings, shingle_hashes, shingle_hashes_reference
from ketl.stages.quotes.stage import find_quotes

from conftest import SEEDS
WEIRD = ["", " ", "...", "“”", "a", "ab", "\x00", "\ud800x", "🙂🙂🙂", "İstanbul ǅ ß", "x" * 3000]


def _seed_quotes():
    rows = []
    for path in sorted(SEEDS.glob("*.txt")):
        for k, q in enumerate(find_quotes(path.read_text(encoding="utf-8"))):
            rows.append((f"{path.name[:3]}-{k}", path.name[:3], q.text))
    return rows


def _table(rows):
    return pa.table({"quote_id": [r[0] for r in rows], "doc_id": [r[1] for r in rows],
                     "text": [r[2] for r in rows]})


def _cluster_of(result, rows, doc, start):
    qid = next(r[0] for r in rows if r[1] == doc and r[2].startswith(start))
    return dict(zip(result["quote_id"].to_pylist(), result["cluster_id"].to_pylist()))[qid]


@pytest.mark.parametrize("unit,n", [("char", 5), ("char", 3), ("word", 5), ("word", 3), ("word", 1)])
def test_bulk_shingles_equal_reference(unit, n):
    texts = [r[2] for r in _seed_quotes()] + WEIRD
    settings = ShingleSettings(unit, n)
    hashes, offsets = shingle_hashes(texts, settings)
    for i, t in enumerate(texts):
        assert hashes[offsets[i]:offsets[i + 1]].tolist() == shingle_hashes_reference(t, settings)


@pytest.mark.parametrize("n", [5, 3, 1])
def test_word_shingles_equal_reference_on_many_scripts_and_chunk_cuts(n):
    """Word hashes come from a running sum (its difference at each word's end and start),
    not a segmented sum per word: the same values as the per-text reference on whole
    articles in many scripts, with chunks cut after every few texts (a chunk's first
    and last words), texts that start or end inside a word, and empty texts between."""
    from conftest import texts_in_many_scripts

    from ketl.dedup.shingles import iter_shingle_hashes

    texts = texts_in_many_scripts(40) + WEIRD + ["word", "", "a b c d e f", "x", "", "İ x"]
    settings = ShingleSettings("word", n)
    for chunk_chars in (1, 5000, None):
        seen = 0
        for first, hashes, offsets in iter_shingle_hashes(texts, settings, chunk_chars):
            for i in range(len(offsets) - 1):
                t = texts[first + i]
                assert hashes[offsets[i]:offsets[i + 1]].tolist() == shingle_hashes_reference(t, settings), t[:40]
                seen += 1
        assert seen == len(texts)


def test_signatures_load_in_datasketch(tmp_path):
    rows = _seed_quotes()
    index = QuoteIndex()
    index.add(_table(rows))
    index.save(tmp_path)
    # Signatures live in the index's Arrow sketch files, in the main table's item order.
    main = pq.read_table(tmp_path / QuoteIndex.file_name)
    (sketch_file,) = QuoteIndex.paths(tmp_path).sketches.glob("*.arrow")
    stored = pa.ipc.open_file(sketch_file).read_all().append_column("id", main.column("id"))
    a, b = permutations(128, 1)
    assert (MinHash(num_perm=128, seed=1).permutations == np.stack((a, b))).all()
    for k in range(0, len(rows), 5):
        qid, _, text = rows[k]
        sig = stored.column("signature")[k].as_py()
        assert stored.column("id")[k].as_py() == qid
        lean = LeanMinHash(seed=1, hashvalues=sig, scheme=SCHEME)
        mine = MinHash(num_perm=128, seed=1, hashfunc=int)
        mine.update_batch(shingle_hashes_reference(text))
        assert lean.jaccard(mine) == 1.0
        other = MinHash(num_perm=128, seed=1, hashfunc=int)
        other.update_batch(shingle_hashes_reference(text[: len(text) // 2]))
        ours = signatures([text[: len(text) // 2]])[0]
        assert (other.hashvalues == ours).all()


def test_seed_pairs_cluster_and_unrelated_do_not():
    rows = _seed_quotes()
    result = QuoteIndex().add(_table(rows))
    context = _cluster_of(result, rows, "000", "In the context")
    assert _cluster_of(result, rows, "001", "In the context") == context
    assert _cluster_of(result, rows, "001", "plays a crucial role here") == context
    assert _cluster_of(result, rows, "000", "very hazardous") == _cluster_of(result, rows, "001", "very hazardous")
    assert context.startswith("000")  # the earliest member names the cluster
    sizes = {}
    for c in result["cluster_id"].to_pylist():
        sizes[c] = sizes.get(c, 0) + 1
    multi = {c for c, n in sizes.items() if n > 1}
    assert multi == {context, _cluster_of(result, rows, "000", "very hazardous")}
    sim = dict(zip(result["quote_id"].to_pylist(), result["similarity"].to_pylist()))
    assert all(0.5 <= s <= 1.0 for s in sim.values())


def _variants(text: str, rng: random.Random) -> dict[str, str]:
    words = text.split()
    i = rng.randrange(1, len(words) - 1)
    swap = words.copy()
    swap[i] = "remarkably"
    drop = words[:i] + words[i + 1:]
    return {
        "swap": " ".join(swap),
        "drop": " ".join(drop),
        "truncate": " ".join(words[: int(len(words) * 0.6)]),
        "punct": text.replace(",", "").replace(".", "!").replace("’", "'") + "...",
        "style": "‘" + text.upper() + "’",
    }


def test_synthetic_variants_join_their_original_only():
    rng = random.Random(7)
    originals = [r for r in _seed_quotes() if len(r[2].split()) >= 15]
    assert len(originals) >= 6
    rows = [(f"o{k}", "orig", r[2]) for k, r in enumerate(originals)]
    expected = {}
    for k, r in enumerate(originals):
        for name, text in _variants(r[2], rng).items():
            rows.append((f"v{k}-{name}", "var", text))
            expected[f"v{k}-{name}"] = f"o{k}"
    result = QuoteIndex().add(_table(rows))
    got = dict(zip(result["quote_id"].to_pylist(), result["cluster_id"].to_pylist()))
    originals_clusters = {got[f"o{k}"] for k in range(len(originals))}
    # The two "In the context" quotes (000 and 001) are one statement: allow that merge only.
    assert len(originals_clusters) >= len(originals) - 1
    for vid, oid in expected.items():
        assert got[vid] == got[oid], vid


def test_incremental_runs_keep_cluster_ids(tmp_path):
    rows = _seed_quotes()
    first, later = rows[: len(rows) // 2], rows[len(rows) // 2:]
    index = QuoteIndex.load(tmp_path)  # nothing there yet: empty
    assert len(index) == 0
    run1 = index.add(_table(first))
    index.save(tmp_path)
    index = QuoteIndex.load(tmp_path)
    run2 = index.add(_table(later))
    # Re-adding known ids returns their stored clusters.
    again = index.add(_table(first))
    assert again["cluster_id"].to_pylist() == run1["cluster_id"].to_pylist()
    # Same clusters as one big run, and old ids never change.
    whole = QuoteIndex().add(_table(rows))
    assert run1["cluster_id"].to_pylist() + run2["cluster_id"].to_pylist() == whole["cluster_id"].to_pylist()
    # A reprint in a third run joins the old cluster, named by its earliest member.
    index.save(tmp_path)
    index = QuoteIndex.load(tmp_path)
    ctx = next(r for r in rows if r[2].startswith("In the context"))
    run3 = index.add(_table([("new-1", "999", "In the context of the Karabakh conflict Russia is a "
                                               "trusted and proactive mediator between the sides")]))
    assert run3["cluster_id"].to_pylist() == [ctx[0]]
    sizes = dict(zip(*index.cluster_sizes().to_pydict().values()))
    assert sizes[ctx[0]] == 4 and sum(sizes.values()) == len(rows) + 1


def test_precomputed_sketches_give_the_same_clusters():
    rows = _seed_quotes()
    table = _table(rows)
    sk = sketch_table(table["text"].to_pylist())
    pre = table.drop_columns(["text"]).append_column("signature", sk["signature"]).append_column(
        "grams", sk["grams"])
    assert QuoteIndex().add(pre).equals(QuoteIndex().add(table))


def test_weird_and_empty_texts_stay_alone():
    weird = [t for t in WEIRD if "\ud800" not in t]  # Arrow strings cannot hold lone surrogates
    rows = [(f"w{k}", "d", t) for k, t in enumerate(weird + weird)]
    result = QuoteIndex().add(_table(rows))
    got = dict(zip(result["quote_id"].to_pylist(), result["cluster_id"].to_pylist()))
    n = len(weird)
    for k, t in enumerate(weird):
        if any(ch.isalnum() for ch in t):  # identical texts with words are duplicates
            assert got[f"w{k + n}"] == f"w{k}"
        else:  # texts without words have no shingles and never match
            assert got[f"w{k + n}"] == f"w{k + n}"
    assert len(QuoteIndex().add(_table([]))) == 0


def test_settings_mismatch_is_refused(tmp_path):
    QuoteIndex().save(tmp_path)
    from ketl.dedup.index import DedupSettings
    with pytest.raises(ValueError):
        QuoteIndex.load(tmp_path, DedupSettings(bands=16, rows=8))


def test_article_near_duplicates(tmp_path):
    texts = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    index = ArticleIndex()
    out = index.add(pa.table({"doc_id": list(texts), "text": list(texts.values())}))
    assert out["near_duplicate_of"].null_count == len(texts)  # the seeds are different stories
    index.save(tmp_path)
    index = ArticleIndex.load(tmp_path)
    reprint = texts["000"].replace("On Sunday", "On sunday").replace("Baku:", "BAKU (Reuters) -")
    reprint += "\nRead more: subscribe to our newsletter for daily updates."
    out = index.add(pa.table({"doc_id": ["r1", "r2"], "text": [reprint, texts["003"][:200]]}))
    assert out["near_duplicate_of"].to_pylist() == ["000", None]


def test_verification_stops_bands_chaining_unrelated_quotes():
    # One row per band: any shared min-hash makes a candidate, so unverified
    # bands chain most of the seed quotes into one component.
    from ketl.dedup.index import DedupSettings, sketch
    from ketl.dedup.lsh import band_keys, band_rows, cluster, group_pairs
    rows = _seed_quotes()
    settings = DedupSettings(bands=128, rows=1, containment=False)
    sigs, _, _ = sketch([r[2] for r in rows], settings)
    pairs = group_pairs(*band_rows(band_keys(sigs, 128, 1)))
    unverified = cluster(len(rows), 0, np.empty(0, np.int64), pairs, np.ones(len(pairs)))
    assert np.unique(unverified, return_counts=True)[1].max() > len(rows) // 2
    result = QuoteIndex(settings).add(_table(rows))
    got = dict(zip(result["quote_id"].to_pylist(), result["cluster_id"].to_pylist()))
    clusters: dict[str, set[str]] = {}
    for qid, cid in got.items():
        clusters.setdefault(cid, set()).add(qid)
    multi = [members for members in clusters.values() if len(members) > 1]
    context = {r[0] for r in rows if r[2].startswith("In the context")}
    hazardous = {_cluster_of(result, rows, "000", "very hazardous"),
                 _cluster_of(result, rows, "001", "very hazardous")}
    # Only the two reprinted statements (same length, so no containment needed) group.
    assert sorted(map(sorted, multi)) == sorted([sorted(context), sorted(clusters[hazardous.pop()])])
    assert all(len(m) == 2 for m in multi)


def _split_runs(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    cuts = np.sort(rng.choice(np.arange(1, n), size=3, replace=False))
    edges = [0, *cuts.tolist(), n]
    return list(zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("seed", range(5))
def test_band_table_runs_equal_one_group_by(seed):
    from ketl.dedup.lsh import BandTable, band_rows, group_pairs
    rng = np.random.default_rng(seed)
    n, bands = 400, 6
    # Many collisions within a band; the band is part of the key, as in band_keys.
    keys = (rng.integers(1, 40, size=(n, bands)) + 1000 * np.arange(bands)).astype(np.uint64)
    keys[rng.random(n) < 0.05] = 0  # empty signatures never pair
    whole = group_pairs(*band_rows(keys))
    table, got = BandTable(bands), []
    for a, b in _split_runs(n, rng):
        got.append(table.add(keys[a:b], a))
        table = BandTable.from_table(table.to_table(), bands)  # through the stored form
    got = np.unique(np.concatenate(got), axis=0)
    assert np.array_equal(got, whole)
    assert not np.isin(np.flatnonzero((keys == 0).all(axis=1)), got).any()


@pytest.mark.parametrize("seed", range(5))
def test_gram_index_runs_equal_one_batch(seed):
    from ketl.dedup.index import _unique_csr
    from ketl.dedup.lsh import GramIndex
    rng = np.random.default_rng(seed)
    n = 300
    lens = rng.integers(0, 12, n)
    offsets = np.concatenate(([0], np.cumsum(lens)))
    values, offsets = _unique_csr(rng.integers(0, 60, offsets[-1]).astype(np.uint32), offsets)
    lens = np.diff(offsets)
    args = dict(anchors=3, min_size=2, max_group=10**6, min_hits=2)
    whole = GramIndex().add(values, offsets, 0, lens, **args)
    index, got = GramIndex(), []
    for a, b in _split_runs(n, rng):
        sub = offsets[a:b + 1]
        got.append(index.add(values[sub[0]:sub[-1]], sub - sub[0], a, lens, **args))
        index = GramIndex.from_table(index.to_table())
    got = np.unique(np.concatenate(got), axis=0)
    assert np.array_equal(got, whole) and len(whole) > 0
    # Exact intersections, probed from the later item of each pair.
    sets = [set(values[offsets[i]:offsets[i + 1]].tolist()) for i in range(n)]
    sizes = index.intersection_sizes(values, offsets, 0, whole[:, 1], whole[:, 0])
    assert sizes.tolist() == [len(sets[i] & sets[j]) for i, j in whole]
    for i, j in whole:  # >= 2 of i's 3 smallest values are in j, and i is no larger
        assert len(set(sorted(sets[i])[:3]) & sets[j]) >= 2 and len(sets[i]) <= len(sets[j])


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_components_equal_kruskal(seed):
    from ketl.dedup.lsh import _kruskal, cluster
    rng = np.random.default_rng(seed)
    n_old, n = 40, 100
    old_root = np.arange(n_old)
    for i in range(1, n_old):  # some old clusters, each rooted at its earliest member
        if rng.random() < 0.5:
            old_root[i] = old_root[rng.integers(0, i)]
    for n_pairs in (25, 90):  # sparse: mostly scipy's components; dense: bridges too
        pairs = np.sort(rng.integers(0, n, size=(n_pairs, 2)), axis=1)
        weights = rng.random(len(pairs)).astype(np.float32)
        got = cluster(n, n_old, old_root, pairs, weights)
        want = _kruskal(n_old, old_root, pairs, weights, np.arange(n_old, n))
        assert np.array_equal(got, want)
        assert (got <= np.arange(n_old, n)).all()
    # A new item bridging two old clusters joins the more similar one; they stay apart.
    got = cluster(4, 2, np.array([0, 1]), np.array([[0, 2], [1, 2], [1, 3], [2, 3]]),
                  np.array([0.6, 0.9, 0.7, 0.8], np.float32))
    assert got.tolist() == [1, 1]


def test_band_step_on_arrow_partitions_equals_whole():
    # The distributed form: rows partitioned by key, grouped per partition, pairs merged.
    from ketl.dedup.index import sketch
    from ketl.dedup.lsh import band_keys, band_table, group_pairs_table, lsh_candidates
    rng = random.Random(3)
    base = [r[2] for r in _seed_quotes()]
    texts = base + [" ".join(v for v in _variants(t, rng).values()) if len(t.split()) > 3 else t
                    for t in base] + base[:5]
    sigs, _, _ = sketch(texts)
    keys = band_keys(sigs, 32, 4)
    rows = band_table(keys)
    assert rows.num_rows == int((keys != 0).sum()) > 0
    part = rows["key"].to_numpy() % np.uint64(4)
    parts = [rows.filter(pa.array(part == p)) for p in range(4)]
    got = pa.concat_tables([group_pairs_table(p, first_new=10) for p in parts])
    got = np.unique(np.stack((got["earlier"].to_numpy(), got["later"].to_numpy()), axis=1), axis=0)
    whole = lsh_candidates(keys, 10)
    assert len(whole) > 0 and np.array_equal(got, whole)
    assert (whole[:, 1] >= 10).all() and (whole[:, 0] < whole[:, 1]).all()


def test_many_small_adds_equal_one_add():
    # As the flow adds articles batch by batch: signatures then live in several chunks.
    rng = random.Random(11)
    rows = _seed_quotes()
    rows += [(f"v{k}-{name}", "var", v) for k, r in enumerate(rows) if len(r[2].split()) >= 8
             for name, v in _variants(r[2], rng).items()]
    whole = QuoteIndex().add(_table(rows))
    index, parts = QuoteIndex(), []
    for a in range(0, len(rows), 9):
        parts.append(index.add(_table(rows[a:a + 9])))
    assert pa.concat_tables(parts).equals(whole)
    assert len(index) == len(rows)
    with pytest.raises(ValueError):
        index.add(pa.table({"quote_id": pa.array([None], pa.string()), "text": ["a quote"]}))


@pytest.mark.parametrize("block_elems", [128 * 7, 128 * 64, 1 << 20])
def test_signatures_across_block_edges_equal_datasketch(monkeypatch, block_elems):
    # Texts that fill a block, spill over its edge, or need several blocks alone:
    # the reused product buffer must give each exactly datasketch's signature.
    from ketl.dedup import minhash

    monkeypatch.setattr(minhash, "_BLOCK_ELEMS", block_elems)
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))).split()
    rng = random.Random(block_elems)
    texts = [" ".join(words[i:i + n]) for i, n in
             ((rng.randrange(len(words) - 400), rng.choice((1, 4, 6, 9, 40, 150, 400))) for _ in range(60))]
    texts[5] = ""
    sigs = signatures(texts)
    for text, sig in zip(texts, sigs):
        ref = MinHash(num_perm=128, seed=1, hashfunc=int)
        ref.update_batch(shingle_hashes_reference(text))
        assert (ref.hashvalues == sig).all() if text else (sig == 0xFFFFFFFF).all()


@pytest.mark.parametrize("width", [128, 64, 8, 248, 256, 100, 3])
def test_jaccard_share_of_equal_positions_equals_the_mean(width):
    """SketchStore.jaccard counts equal positions eight bytes at a time (share_equal): the
    same float32 values as the mean of the equality rows, for every share 0..width (with
    widths that take the byte-lane count and widths that fall back to the mean), over
    one chunk and several, on signatures of real quotes too."""
    import numpy as np

    from ketl.dedup.sketches import SketchStore, share_equal

    rng = np.random.default_rng(width)
    a = rng.integers(0, 2**32, size=(width + 1, width), dtype=np.uint32)
    b = a.copy()
    for k in range(width + 1):  # k positions differ: every share from 1 down to 0
        b[k, rng.permutation(width)[:k]] ^= 1
    sigs = np.concatenate([a, b])
    pairs = np.stack([np.arange(width + 1), np.arange(width + 1) + width + 1], axis=1)
    pairs = np.concatenate([pairs, rng.integers(0, len(sigs), size=(500, 2))])
    expected = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1).astype(np.float32)
    assert sorted(set(expected[:width + 1].tolist())) == [float(np.float32(k / width)) for k in range(width + 1)]
    one, two = SketchStore(width), SketchStore(width)
    one.append(sigs)
    two.append(sigs[:7])
    two.append(sigs[7:])
    for store in (one, two):
        got = store.jaccard(pairs, chunk=64)
        assert got.dtype == np.float32 and np.array_equal(got, expected)
    eq = sigs[pairs[:, 0]] == sigs[pairs[:, 1]]
    assert np.array_equal(share_equal(eq), eq.mean(axis=1))
    assert np.array_equal(share_equal(eq[:, ::-1]), eq[:, ::-1].mean(axis=1))  # not contiguous: the mean
    if width == 128:
        from ketl.dedup.index import QUOTE_SETTINGS, sketch

        real = sketch([r[2] for r in _seed_quotes()], QUOTE_SETTINGS)[0]
        m = np.arange(len(real))
        pairs = np.stack(np.meshgrid(m, m), axis=-1).reshape(-1, 2)
        store = SketchStore(128)
        store.append(real)
        assert np.array_equal(store.jaccard(pairs), (real[pairs[:, 0]] == real[pairs[:, 1]]).mean(axis=1).astype(np.float32))


def test_chunks_of_are_the_distinct_chunk_numbers():
    """SketchStore reads each chunk its items fall in: _chunks_of gives np.unique's answer."""
    import numpy as np

    from ketl.dedup.sketches import _chunks_of

    rng = np.random.default_rng(3)
    for n_chunks in (1, 2, 7, 50):
        for size in (0, 1, 5, 1000):
            chunk = rng.integers(0, n_chunks, size=size)
            assert _chunks_of(chunk, n_chunks) == np.unique(chunk).tolist()
