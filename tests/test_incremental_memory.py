"""An incremental run's cluster step reads the stored dataset a slice at a time, and gives
what the whole-table versions gave.

The step used to read each stored quotes part whole (a run date's whole table, every
quote's text) and a stored index's main table whole (its cluster ids as strings, looked
up in a hash table of every id): its peak grew with the stored dataset, not with the
run (``benchmarks/bench_run_steps_rss.py --stored`` measures it). These tests pin the
streamed versions to the whole-table ones on rows built to hit every case: texts in
many scripts, clusters across stored parts and run dates, lone quotes, replaced files,
items indexed but no longer stored.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ketl.dedup.index import ArticleIndex, QuoteIndex, _first_positions, _positions_in
from ketl.run.batch import RunContext
from ketl.run.dedup import _write_quotes, with_clusters
from ketl.schemas import QUOTES
from ketl.settings import Settings
from ketl.store import write_part

# Statements in many scripts, each said again with a word changed (near-duplicates), and
# lone ones: the index clusters them.
SAID = [
    "Мы не отступим ни на шаг, что бы ни случилось с нашими городами этой зимой.",
    "Nous ne reculerons pas d'un seul pas, quoi qu'il arrive à nos villes cet hiver.",
    "我们不会后退一步，无论今年冬天我们的城市发生什么，我们都会坚持到底。",
    "لن نتراجع خطوة واحدة مهما حدث لمدننا هذا الشتاء، وسنبقى هنا حتى النهاية.",
    "Δεν θα κάνουμε ούτε ένα βήμα πίσω, ό,τι κι αν συμβεί στις πόλεις μας αυτόν τον χειμώνα.",
    "हम एक कदम भी पीछे नहीं हटेंगे, चाहे इस सर्दी में हमारे शहरों के साथ कुछ भी हो।",
    "We will not step back a single inch, whatever happens to our towns this winter.",
    "אנחנו לא נסוג אף צעד אחד, יהיה אשר יהיה עם הערים שלנו בחורף הזה.",
]
LONE = ["Il pleut.", "Дождь идёт.", "下雨了。", "It rains on the plain.", "تمطر."]


def _quote_rows(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(quote_id, doc_id, text): repeats of SAID with small edits, and lone quotes."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        if rng.random() < 0.25:
            text = f"{rng.choice(LONE)} {k}"
        else:
            text = rng.choice(SAID)
            if rng.random() < 0.5:  # a near-duplicate: one character changed
                at = rng.randrange(len(text))
                text = text[:at] + rng.choice("xyzёжш中ب") + text[at + 1:]
        rows.append((f"{seed:02d}q{k:05d}", f"d{k // 4:04d}", text))
    return rows


def _quotes(rows, linked: pa.Table) -> pa.Table:
    """Stored quote rows (as a run wrote them) with the index's answer for them."""
    n = len(rows)
    columns = {
        "quote_id": [r[0] for r in rows], "doc_id": [r[1] for r in rows], "text": [r[2] for r in rows],
        "source_path": [f"site/{r[1]}.txt" for r in rows], "cluster_id": linked.column("cluster_id"),
        "similarity": linked.column("similarity").cast(pa.float32()),
        "cluster_size": [1] * n, "is_canonical": [False] * n,
    }
    def filler(f: pa.Field) -> pa.Array:
        return pa.nulls(n, f.type) if f.nullable else pa.array([""] * n if pa.types.is_string(f.type) else [0] * n,
                                                              f.type)
    return pa.table({f.name: pa.array(columns[f.name], f.type) if f.name in columns else filler(f)
                     for f in QUOTES}, schema=QUOTES)


def _stored(tmp_path, n: int, seed: int, parts: int):
    """A stored snapshot's quotes table in ``parts`` run dates, and its index (items in row order)."""
    rows = _quote_rows(n, seed)
    index = QuoteIndex()
    linked = index.add(pa.table({"quote_id": [r[0] for r in rows], "text": [r[2] for r in rows]}))
    quotes = _quotes(rows, linked)
    prev = tmp_path / "prev"
    bounds = np.linspace(0, n, parts + 1).astype(int)
    for k in range(parts):
        write_part(prev, "quotes", quotes.slice(bounds[k], bounds[k + 1] - bounds[k]), f"quotes-run{k}",
                   f"2021-03-{k + 1:02d}")
    return prev, index, quotes


def _ctx(staging) -> RunContext:
    staging.mkdir(parents=True, exist_ok=True)
    return RunContext(run_id="abcdefgh-run", raw=str(staging), staging=str(staging), settings=Settings(),
                      config_hash="h", started_at=datetime(2021, 3, 20, tzinfo=timezone.utc))


def _read(folder) -> pa.Table:
    return ds.dataset(folder / "quotes", format="parquet", partitioning="hive").to_table()


@pytest.mark.parametrize("seed,stored_rows,replaced,dead", [
    (1, 7, [], 0),              # row k is item k: no id held, no hash table
    (2, 64, [], 0),
    (3, 5, ["site/d0003.txt", "site/d0040.txt"], 0),  # a re-read file's rows dropped: the look-up
    (4, 1 << 16, [], 9),        # items indexed but not stored (replaced before): the look-up
    (5, 3, ["site/d0000.txt"], 4),
])
def test_quotes_rewrite_a_slice_at_a_time_equals_the_whole_table_version(tmp_path, monkeypatch, seed, stored_rows,
                                                                         replaced, dead):
    prev, index, quotes = _stored(tmp_path, 420, seed, parts=3)
    if dead:  # the index holds items whose rows are gone: they count in no cluster
        gone = _quote_rows(dead, seed + 50)
        index.add(pa.table({"quote_id": [r[0] for r in gone], "text": [r[2] for r in gone]}))
    import ketl.run.dedup as dedup

    monkeypatch.setattr(dedup, "STORED_ROWS", stored_rows)
    looked_up = []
    real = QuoteIndex.live_roots
    monkeypatch.setattr(QuoteIndex, "live_roots", lambda self, ids: looked_up.append(len(ids)) or real(self, ids))
    ctx = _ctx(tmp_path / "staging")
    n_new, clusters = _write_quotes(ctx, [], prev, index, None, replaced)
    assert bool(looked_up) == bool(replaced or dead)  # the fast path was taken exactly when it may be

    # the whole-table version: every stored row (less the re-read files') at once
    whole = ds.dataset(prev / "quotes", format="parquet", partitioning="hive").to_table()
    if replaced:
        whole = whole.filter(pc.invert(pc.is_in(whole.column("source_path"), value_set=pa.array(replaced))))
        assert whole.num_rows < quotes.num_rows
    want, want_clusters = with_clusters(whole.drop_columns(["cluster_size", "is_canonical"]), index)
    got = _read(tmp_path / "staging")
    assert n_new == 0 and clusters == want_clusters and want_clusters >= 3
    assert got.column("run_date").equals(want.column("run_date"))
    got, want = got.drop_columns(["run_date"]), want.select(QUOTES.names).cast(QUOTES)
    assert got.equals(want)
    assert pc.sum(pc.greater(got.column("cluster_size"), 1).cast(pa.int64())).as_py() > 10


def test_id_slices_in_item_order_is_the_whole_column_check():
    rows = _quote_rows(300, 7)
    index = QuoteIndex()
    index.add(pa.table({"quote_id": [r[0] for r in rows], "text": [r[2] for r in rows]}))
    ids = pa.array([r[0] for r in rows], pa.string())
    for cuts in ([], [1], [100, 200], [299], list(range(0, 300, 17))):
        bounds = [0, *cuts, 300]
        slices = [ids.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]
        assert index.in_item_order(slices)
        assert index.in_item_order([pa.chunked_array(slices)])
    assert not index.in_item_order([ids.slice(0, 299)])  # one short
    assert not index.in_item_order([ids, pa.array(["x"])])  # one more
    swapped = pa.concat_arrays([ids.slice(1, 1), ids.slice(0, 1), ids.slice(2)])
    assert not index.in_item_order([swapped])
    root, size = index.item_order_roots()
    item, want_size = index.live_roots(ids)
    assert np.array_equal(root, item) and np.array_equal(size, want_size)


def _positions_reference(values, ids):
    """The whole-table look-up the stored index's load did: a hash table of every id."""
    found = pc.index_in(values.cast(pa.string()) if pa.types.is_dictionary(values.type) else values, value_set=ids)
    return None if found.null_count else found.to_numpy().astype(np.int64)


@pytest.mark.parametrize("seed", range(40))
def test_positions_in_equals_a_look_up_in_every_id(seed):
    rng = random.Random(seed)
    alphabet = "abcdefжшщ中文字ب٣αβγ"
    n = rng.randrange(0, 300)
    ids = pa.array(list(dict.fromkeys("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 6)))
                                      for _ in range(n))), pa.string())
    n = len(ids)
    if n:
        roots = [ids[rng.randrange(n)].as_py() for _ in range(rng.randrange(1, 12))]
        values = [rng.choice(roots) if rng.random() < 0.7 else ids[rng.randrange(n)].as_py() for _ in range(n)]
    else:
        values = []
    if values and rng.random() < 0.2:  # a damaged index: a value that is not an id, or a null
        values[rng.randrange(len(values))] = rng.choice(["not-an-id-жш", None])
    plain = pa.chunked_array([pa.array(values, pa.string())])
    cuts = sorted(rng.sample(range(len(values) + 1), min(3, len(values) + 1)))
    pieces = [pa.array(values[a:b], pa.string()).dictionary_encode() for a, b in zip([0, *cuts], [*cuts, len(values)])]
    encoded = pa.chunked_array(pieces, pa.dictionary(pa.int32(), pa.string()))  # a dictionary per chunk
    want = _positions_reference(plain, ids)
    for got in (_positions_in(plain, ids), _positions_in(encoded, ids)):
        assert (got is None) == (want is None)
        if want is not None:
            assert got.dtype == np.int64 and np.array_equal(got, want)


def _load_reference(cls, state):
    """What load read before: the whole main table, cluster ids as strings looked up in every id."""
    table = pq.read_table(cls.paths(state).main)
    ids = table.column("id").combine_chunks()
    root = pc.index_in(table.column("cluster_id"), value_set=ids).to_numpy().astype(np.int64)
    return (ids, root, table.column("similarity").to_numpy().astype(np.float32),
            table.column("n_grams").to_numpy().astype(np.int64))


@pytest.mark.parametrize("cls,seed", [(QuoteIndex, 11), (QuoteIndex, 12), (ArticleIndex, 13)])
def test_stored_index_loads_as_the_whole_table_read_did(tmp_path, cls, seed):
    index = cls()
    for run in range(3):  # several runs' items: clusters that grew across runs
        rows = _quote_rows(150, seed * 10 + run)
        index.add(pa.table({cls.id_column: [r[0] for r in rows], "text": [r[2] * 3 for r in rows]}))
    index.save(tmp_path / "state")
    ids, root, sim, lens = _load_reference(cls, tmp_path / "state")
    assert len(np.unique(root)) < len(root)  # clusters of several members: the comparison is not trivial
    loaded = cls.load(tmp_path / "state", bands=False, grams=False)
    assert loaded._all_ids().equals(ids)
    assert np.array_equal(loaded._root, root) and loaded._root.dtype == np.int64
    assert np.array_equal(loaded._sim, sim) and np.array_equal(loaded._lens, lens)
    full = cls.load(tmp_path / "state")  # with bands and n-grams: the same items, and it still adds
    assert np.array_equal(full._root, root)
    more = _quote_rows(40, seed * 10 + 9)
    table = pa.table({cls.id_column: [r[0] for r in more], "text": [r[2] * 3 for r in more]})
    assert full.add(table).equals(index.add(table))


@pytest.mark.parametrize("seed", range(30))
def test_first_positions_equal_index_in_over_every_stored_id(seed):
    """The register step numbers a run's ids against the stored ones: a hash table of the
    run's ids, every stored id looked up once (was: a table of every stored id)."""
    rng = random.Random(seed)
    alphabet = "abжш中文ب٣αγ"
    stored = list(dict.fromkeys("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5)))
                                for _ in range(rng.randrange(0, 200))))
    chunks = [stored[:len(stored) // 3], stored[len(stored) // 3:]]  # as the index keeps them: chunks
    known = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    run = [rng.choice(stored) if stored and rng.random() < 0.5 else "".join(rng.choice(alphabet) for _ in range(3))
           for _ in range(rng.randrange(0, 60))]
    if run and rng.random() < 0.3:
        run[rng.randrange(len(run))] = None
    values = pa.array(run, pa.string())
    want = pc.fill_null(pc.index_in(values, value_set=known), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    got = _first_positions(values, known)
    assert got.dtype == np.int64 and np.array_equal(got, want)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_run_numbered_against_a_stored_index_as_before(seed):
    """_positions (the register step's numbering) against the old look-up in every stored id."""
    index = QuoteIndex()
    rows = _quote_rows(200, seed)
    index.add(pa.table({"quote_id": [r[0] for r in rows], "text": [r[2] for r in rows]}))
    rng = random.Random(seed)
    again = [rng.choice(rows)[0] for _ in range(30)]  # stored ids read again, some twice
    new = [f"new-{k % 25}-ж" for k in range(40)]  # new ids, some twice
    ids = again + new
    rng.shuffle(ids)
    ids = pa.array(ids, pa.string())
    pos, new_rows, new_ids = index._positions(ids)
    where = pc.fill_null(pc.index_in(ids, value_set=index._ids()), -1).to_numpy().astype(np.int64)
    known = where >= 0
    assert np.array_equal(pos[known], where[known])  # stored ids keep their items
    assert (pos[~known] >= len(rows)).all() and len(new_ids) == 25  # new ones numbered after, once each
    assert np.array_equal(np.flatnonzero(~known)[np.unique(pos[~known], return_index=True)[1]], new_rows)
    assert new_ids.to_pylist() == list(dict.fromkeys(ids.filter(pa.array(~known)).to_pylist()))
