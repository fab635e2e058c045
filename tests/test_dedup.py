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
from ketl.quotes import find_quotes

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
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


def test_signatures_load_in_datasketch(tmp_path):
    rows = _seed_quotes()
    index = QuoteIndex()
    index.add(_table(rows))
    index.save(tmp_path)
    stored = pq.read_table(tmp_path / QuoteIndex.file_name)
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
