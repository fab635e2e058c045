"""The run layer's streamed writes and filtered reads give what the whole-table versions gave.

The cluster step used to hold whole tables (the run's quotes with their texts,
every article's columns); now it streams pieces and reads only the rows that
can matter (benchmarks/bench_run_steps_rss.py measures the memory). These tests
pin the results to the whole-table builders on rows built to hit every case:
clustered and lone quotes, terms and statements, near-duplicates and the
articles they point at, articles no table needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from ketl.run.batch import RunContext
from ketl.run.dedup import write_article_propagation, write_quote_propagation
from ketl.run.propagation import article_clusters, quote_clusters
from ketl.schemas import ARTICLES, QUOTES
from ketl.settings import Settings
from ketl.store import PartWriters, write_part

T0 = datetime(2021, 3, 1, 9, 0, tzinfo=timezone.utc)
TEXTS = ["Мы не отступим ни на шаг.", "Nous ne reculerons pas d'un pas.", "我们不会后退一步。",
         "لن نتراجع خطوة واحدة.", "We will not step back, whatever it costs us.", "dogs"]


def _full(schema: pa.Schema, columns: dict) -> pa.Table:
    n = len(next(iter(columns.values())))
    def filler(f: pa.Field) -> pa.Array:  # a required column gets a value, the others nulls
        return pa.nulls(n, f.type) if f.nullable else pa.array([""] * n if pa.types.is_string(f.type) else [0] * n,
                                                                  f.type)
    return pa.table({f.name: pa.array(columns[f.name], f.type) if f.name in columns else filler(f)
                     for f in schema}, schema=schema)


def _dataset(n_articles: int = 60):
    ids = [f"d{k:03d}" for k in range(n_articles)]
    dup = [ids[k - 1] if k % 7 == 3 else None for k in range(n_articles)]  # reprints of the article before
    articles = _full(ARTICLES, {
        "doc_id": ids, "source_path": [f"{d}.txt" for d in ids], "site": [f"Site {k % 5}" for k in range(n_articles)],
        "title": [f"Title {d}" for d in ids], "near_duplicate_of": dup,
        "published": [T0 + timedelta(hours=k) if k % 4 else None for k in range(n_articles)],
        "first_seen": [T0 + timedelta(days=30)] * n_articles, "processed_at": [T0 + timedelta(days=30)] * n_articles})
    rows = []
    for k in range(n_articles):
        cluster = k % 9  # clusters of several members; cluster 8 has one member only below
        if cluster == 8 and k > 8:
            cluster = 100 + k
        if k >= n_articles - 6:
            cluster = 200 + k // 2  # clusters of exactly two statements
        kind = "term" if k % 6 == 5 and k < n_articles - 6 else "statement"
        rows.append((f"q{k:03d}", ids[k], TEXTS[k % len(TEXTS)], f"c{cluster:03d}", kind))
    size = {}
    for r in rows:
        size[r[3]] = size.get(r[3], 0) + 1
    quotes = _full(QUOTES, {
        "quote_id": [r[0] for r in rows], "doc_id": [r[1] for r in rows], "text": [r[2] for r in rows],
        "speaker_name": ["Ann Lee" if k % 3 else None for k in range(n_articles)],
        "speaker_id": ["ann-lee" if k % 3 else None for k in range(n_articles)],
        "cluster_id": [r[3] for r in rows], "kind": [r[4] for r in rows],
        "similarity": [0.9] * n_articles, "cluster_size": [size[r[3]] for r in rows],
        "is_canonical": [False] * n_articles})
    return articles, quotes


def _ctx(staging) -> RunContext:
    """The run whose step 3 writes the propagation tables into ``staging`` (as finalize_run's halves do)."""
    staging.mkdir(parents=True, exist_ok=True)
    return RunContext(run_id="abcdefgh-run", raw=str(staging), staging=str(staging), settings=Settings(),
                      config_hash="h", started_at=datetime(2021, 3, 4, tzinfo=timezone.utc))


def _propagate(staging, pass_rows: int | None = None) -> None:
    """What step 3 runs once the tables are written: the articles half's article_clusters
    (it leaves the near-duplicates' targets in the work folder), then quote_clusters."""
    ctx = _ctx(staging)
    write_article_propagation(ctx)
    assert ctx.files.dedup().is_dir()  # the targets were left for the quotes' table
    write_quote_propagation(ctx, *([pass_rows] if pass_rows else []))


def test_propagation_from_the_snapshot_reads_only_what_it_needs_and_equals_the_whole_build(tmp_path):
    articles, quotes = _dataset()
    tmp_path = tmp_path / "staging"
    for k in range(3):  # several parts and run dates, as a dataset grown run after run has
        sl = slice(k * 20, (k + 1) * 20)
        write_part(tmp_path, "articles", articles[sl], f"part-run{k}-00000", f"2021-03-0{k + 1}")
        write_part(tmp_path, "quotes", quotes[sl], f"quotes-run{k}", f"2021-03-0{k + 1}")
    _propagate(tmp_path)

    def read(name):
        return ds.dataset(tmp_path / name, format="parquet", partitioning="hive").to_table().drop_columns(["run_date"])

    want_q = quote_clusters(quotes, articles, "abcdefgh-run")
    want_a = article_clusters(articles, "abcdefgh-run")
    assert want_q.num_rows >= 3 and want_a.num_rows >= 5  # both tables have rows: the comparison is not empty
    assert read("quote_clusters").equals(want_q)
    assert read("article_clusters").equals(want_a)


@pytest.mark.parametrize("pass_rows", [8, 25])
def test_propagation_built_in_passes_over_cluster_ranges_equals_the_whole_build(tmp_path, pass_rows):
    """A large quotes table is built a range of cluster ids at a time (memory bounded by the
    pass, not the run): the rows and their order must be the one-pass build's."""
    import hashlib

    from ketl.run.propagation import _passes, _ranges

    articles, quotes = _dataset(90)
    tmp_path = tmp_path / "staging"
    hexed = [hashlib.blake2b(c.encode(), digest_size=8).hexdigest() for c in quotes.column("cluster_id").to_pylist()]
    quotes = quotes.set_column(quotes.schema.get_field_index("cluster_id"), "cluster_id",
                               pa.array(hexed, pa.string()))
    for k in range(3):
        sl = slice(k * 30, (k + 1) * 30)
        write_part(tmp_path, "articles", articles[sl], f"part-run{k}-00000", f"2021-03-0{k + 1}")
        write_part(tmp_path, "quotes", quotes[sl], f"quotes-run{k}", f"2021-03-0{k + 1}")
    passes = _passes(tmp_path, pass_rows)
    assert passes == (16 if pass_rows == 8 else 4)
    used = {next(k for k, (lo, hi) in enumerate(_ranges(passes)) if c >= lo and (hi is None or c < hi))
            for c in hexed}
    assert len(used) > 2  # the clusters fall in several passes
    _propagate(tmp_path, pass_rows)
    got = ds.dataset(tmp_path / "quote_clusters", format="parquet", partitioning="hive").to_table()
    want = quote_clusters(quotes, articles, "abcdefgh-run")
    assert want.num_rows >= 5
    assert got.drop_columns(["run_date"]).equals(want)
    reprints = ds.dataset(tmp_path / "article_clusters", format="parquet", partitioning="hive").to_table()
    assert reprints.drop_columns(["run_date"]).equals(article_clusters(articles, "abcdefgh-run"))


def test_cluster_ranges_cover_every_id_once():
    from ketl.run.propagation import _ranges

    ids = ["", "0", "0f", "3zz", "4", "7fff", "8", "c000", "ffff", "g", "Z", "~~"]
    for passes in (1, 2, 4, 8, 16):
        ranges = _ranges(passes)
        assert len(ranges) == passes
        for i in ids:
            assert sum(1 for lo, hi in ranges if i >= lo and (hi is None or i < hi)) == 1, (passes, i)


def test_part_writers_stream_pieces_into_one_part_per_run_date(tmp_path):
    _, quotes = _dataset(30)
    with PartWriters(tmp_path, "quotes", "quotes-abc") as out:
        for k in range(0, 30, 7):
            out.write(quotes.slice(k, 7), "2021-03-01" if k < 14 else "2021-03-02")
        out.write(quotes.slice(0, 0), "2021-03-09")  # an empty piece writes no part
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["quotes/run_date=2021-03-01/quotes-abc.parquet", "quotes/run_date=2021-03-02/quotes-abc.parquet"]
    got = ds.dataset(tmp_path / "quotes", format="parquet", partitioning="hive").to_table()
    assert got.drop_columns(["run_date"]).sort_by("quote_id").equals(quotes.sort_by("quote_id"))


def test_part_writers_leave_nothing_when_the_block_fails(tmp_path):
    _, quotes = _dataset(10)
    with pytest.raises(RuntimeError):
        with PartWriters(tmp_path, "quotes", "quotes-abc") as out:
            out.write(quotes, "2021-03-01")
            raise RuntimeError("a failed step")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_article_clusters_are_built_from_the_articles_alone_while_the_quotes_are_rewritten(tmp_path):
    """The cluster step's articles half builds article_clusters before the quotes table is
    written (the other worker is still rewriting it): the articles alone give the whole build's rows."""
    from ketl.run.propagation import write_snapshot_article_clusters, write_snapshot_quote_clusters

    articles, quotes = _dataset()
    for k in range(3):
        sl = slice(k * 20, (k + 1) * 20)
        write_part(tmp_path, "articles", articles[sl], f"part-run{k}-00000", f"2021-03-0{k + 1}")
    assert not (tmp_path / "quotes").exists()
    assert write_snapshot_article_clusters(tmp_path, "run", "2021-03-04", "part-run") >= 5

    def read(name):
        return ds.dataset(tmp_path / name, format="parquet", partitioning="hive").to_table().drop_columns(["run_date"])

    assert read("article_clusters").equals(article_clusters(articles, "run"))
    for k in range(3):  # then the quotes half's table, and quote_clusters from both
        write_part(tmp_path, "quotes", quotes[k * 20:(k + 1) * 20], f"quotes-run{k}", f"2021-03-0{k + 1}")
    assert write_snapshot_quote_clusters(tmp_path, "run", "2021-03-04", "part-run") >= 3
    assert read("quote_clusters").equals(quote_clusters(quotes, articles, "run"))
    assert read("article_clusters").equals(article_clusters(articles, "run"))  # left as it was


def test_step_3_scans_the_articles_table_three_times_and_the_passed_targets_give_the_same_tables(tmp_path, monkeypatch):
    """The articles half reads the near-duplicates' targets once and leaves them for quote_clusters
    (each table read them itself: four scans); without the file the quotes' table reads them again."""
    from ketl.run import first_seen

    articles, quotes = _dataset()
    staging = tmp_path / "staging"
    for k in range(3):
        sl = slice(k * 20, (k + 1) * 20)
        write_part(staging, "articles", articles[sl], f"part-run{k}-00000", f"2021-03-0{k + 1}")
        write_part(staging, "quotes", quotes[sl], f"quotes-run{k}", f"2021-03-0{k + 1}")
    scans = []
    real = first_seen.article_columns
    monkeypatch.setattr(first_seen, "article_columns", lambda *a, **k: scans.append(a[1]) or real(*a, **k))
    ctx = _ctx(staging)
    write_article_propagation(ctx)
    assert len(scans) == 2  # the targets (one narrow column), then the rows article_clusters needs
    write_quote_propagation(ctx)
    assert len(scans) == 3 and len(scans[2]) > 1  # quote_clusters: the rows alone

    def read(name):
        return ds.dataset(staging / name, format="parquet", partitioning="hive").to_table().drop_columns(["run_date"])

    got = read("quote_clusters")
    assert got.num_rows >= 3 and got.equals(quote_clusters(quotes, articles, "abcdefgh-run"))
    (ctx.files.dedup() / "near-duplicate-targets.parquet").unlink()  # an older work folder: read them again
    write_quote_propagation(ctx)
    assert len(scans) == 5
    assert read("quote_clusters").equals(got)
