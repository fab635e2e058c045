"""A quote cluster's ``outlets``: distinct outlets in order of first appearance, whatever
the number of passes of the quote_clusters build.

Arrow's ``distinct`` aggregation, which built the list, does not keep the order of its
input: its lists came out reordered, and differently for another set of rows, so a
large quotes table built in 4 or 8 passes gave 251 of 2,508 clusters another order
(bench_vs_by_hand's corpus, 100,000 articles), and a one-pass build could put an
outlet before the one that ran the statement first (``outlets[0] != first_outlet``).
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from ketl.run.propagation import _passes, quote_clusters
from ketl.schemas import ARTICLES, QUOTES
from ketl.store import write_part
from test_run_memory import T0, TEXTS, _full, _propagate

# Outlets in several scripts: sites, and a source path where the site is unknown (None).
SITES = ["Лента.ру", "新华网", "الجزيرة", "Le Monde", "ynet ידיעות", "Dainik Jagran दैनिक", "Kompas",
         "Ελληνική", "BBC", "NHK 日本", "한겨레", "Folha", None]


def _reprinted(n_clusters: int = 48, members: int = 8, seed: int = 15):
    """Articles and their quotes: ``n_clusters`` statements each run by ``members``
    outlets picked at random (repeats included), at hours that often tie (then the
    doc_id decides) and in an order unrelated to the doc ids."""
    rng = random.Random(seed)
    doc_ids, sites, published, quote_rows = [], [], [], []
    for c in range(n_clusters):
        cluster = hashlib.blake2b(f"c{c}".encode(), digest_size=8).hexdigest()
        for m in range(members):
            doc = hashlib.blake2b(f"d{c}-{m}".encode(), digest_size=8).hexdigest()
            doc_ids.append(doc)
            sites.append(rng.choice(SITES))
            published.append(T0 + timedelta(hours=rng.randrange(6)) if rng.random() < 0.9 else None)
            quote_id = cluster if m == 0 else hashlib.blake2b(f"q{c}-{m}".encode(), digest_size=8).hexdigest()
            quote_rows.append((quote_id, doc, TEXTS[c % len(TEXTS)], cluster))
    n = len(doc_ids)
    articles = _full(ARTICLES, {
        "doc_id": doc_ids, "source_path": [f"{d}.txt" for d in doc_ids], "site": sites,
        "title": [f"Title {d}" for d in doc_ids], "published": published,
        "first_seen": [T0 + timedelta(days=2)] * n, "processed_at": [T0 + timedelta(days=2)] * n})
    quotes = _full(QUOTES, {
        "quote_id": [r[0] for r in quote_rows], "doc_id": [r[1] for r in quote_rows],
        "text": [r[2] for r in quote_rows], "cluster_id": [r[3] for r in quote_rows],
        "kind": ["statement"] * n, "similarity": [0.95] * n, "cluster_size": [members] * n,
        "is_canonical": [r[0] == r[3] for r in quote_rows]})
    return articles, quotes


def _first_appearance(articles: pa.Table, quotes: pa.Table) -> dict[str, list[str]]:
    """Each cluster's outlets in order of first appearance, by hand: members ordered by
    time (published, else first_seen), ties by doc_id."""
    art = {a["doc_id"]: a for a in articles.to_pylist()}
    members: dict[str, list[tuple]] = {}
    for q in quotes.to_pylist():
        a = art[q["doc_id"]]
        members.setdefault(q["cluster_id"], []).append(
            (a["published"] or a["first_seen"], a["doc_id"], a["site"] or a["source_path"]))
    out = {}
    for cluster, rows in members.items():
        order: list[str] = []
        for _at, _doc, outlet in sorted(rows):
            if outlet not in order:
                order.append(outlet)
        out[cluster] = order
    return out


def test_outlets_are_in_order_of_first_appearance():
    articles, quotes = _reprinted()
    got = quote_clusters(quotes, articles, "run")
    want = _first_appearance(articles, quotes)
    assert got.num_rows == len(want) == 48
    outlets = dict(zip(got.column("cluster_id").to_pylist(), got.column("outlets").to_pylist()))
    assert outlets == want
    for row in got.select(["outlets", "first_outlet", "n_outlets"]).to_pylist():
        assert row["outlets"][0] == row["first_outlet"] and row["n_outlets"] == len(row["outlets"])


@pytest.mark.parametrize("pass_rows", [40, 100, 10**9])
def test_outlets_order_does_not_depend_on_the_number_of_passes(tmp_path, pass_rows):
    articles, quotes = _reprinted()
    staging = tmp_path / "staging"
    for k in range(4):  # parts of several runs, as a grown dataset has
        sl = slice(k * 96, (k + 1) * 96)
        write_part(staging, "articles", articles[sl], f"part-run{k}-00000", f"2021-03-0{k + 1}")
        write_part(staging, "quotes", quotes[sl], f"quotes-run{k}", f"2021-03-0{k + 1}")
    assert _passes(staging, pass_rows) == {40: 16, 100: 4, 10**9: 1}[pass_rows]
    _propagate(staging, pass_rows)
    got = ds.dataset(staging / "quote_clusters", format="parquet", partitioning="hive").to_table()
    assert got.num_rows == 48
    outlets = dict(zip(got.column("cluster_id").to_pylist(), got.column("outlets").to_pylist()))
    assert outlets == _first_appearance(articles, quotes)


def _reprinted_articles() -> pa.Table:
    articles, _quotes = _reprinted()
    # each cluster's first member is the article its reprints point at
    dup = [None if k % 8 == 0 else articles.column("doc_id")[k - k % 8].as_py() for k in range(articles.num_rows)]
    return articles.set_column(articles.schema.get_field_index("near_duplicate_of"), "near_duplicate_of",
                               pa.array(dup, pa.string()))


def test_article_clusters_list_outlets_in_order_of_first_appearance():
    """The same list in ``article_clusters`` (one build, no passes) was reordered too."""
    from ketl.run.propagation import article_clusters

    articles = _reprinted_articles()
    got = article_clusters(articles, "run", pass_rows=10**9)
    assert got.num_rows == 48
    rows = articles.to_pylist()
    want = {}
    for cluster in got.column("cluster_id").to_pylist():
        members = sorted((a["published"] or a["first_seen"], a["doc_id"], a["site"] or a["source_path"])
                         for a in rows if cluster in (a["doc_id"], a["near_duplicate_of"]))
        want[cluster] = list(dict.fromkeys(m[2] for m in members))
    assert dict(zip(got.column("cluster_id").to_pylist(), got.column("outlets").to_pylist())) == want
    assert [o[0] for o in got.column("outlets").to_pylist()] == got.column("first_outlet").to_pylist()


@pytest.mark.parametrize("pass_rows", [20, 120])
def test_article_clusters_built_in_passes_equal_one_build(pass_rows):
    """Ranges of cluster ids (16 and 4 passes here) give the one build's table, rows and order,
    with articles that are in no cluster and undated ones among them."""
    from ketl.run.propagation import _passes_for, article_clusters

    articles = _reprinted_articles()
    dup_at = articles.schema.get_field_index("near_duplicate_of")
    lone = articles.slice(0, 40).set_column(0, articles.schema.field(0), pa.array([f"{k:02x}lone" for k in range(40)]))
    lone = lone.set_column(dup_at, articles.schema.field(dup_at), pa.nulls(40, pa.string()))
    articles = pa.concat_tables([lone, articles])
    assert _passes_for(articles.num_rows, pass_rows) == {20: 16, 120: 4}[pass_rows]
    one = article_clusters(articles, "run", pass_rows=10**9)
    assert one.num_rows == 48
    assert article_clusters(articles, "run", pass_rows=pass_rows).equals(one)
