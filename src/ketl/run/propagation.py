"""How statements and articles spread: the ``quote_clusters`` and ``article_clusters`` tables.

Built once per run from the whole quotes and articles tables (both are small
columns next to the text), with Arrow group-bys: rows are sorted by cluster
and time first, so the order-keeping aggregations (``first``, ``last``,
``list`` on one thread) give the first outlet and the reprints in time order
without a Python loop; the outlets in order of appearance are each outlet's
first row, ordered (Arrow's ``distinct`` does not keep its input's order).

An article's time is its ``published`` date, else its ``first_seen`` (when
ketl first read it): an undated article still has a place in the order, and
``first_dated`` says which one the first place rests on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..schemas import ARTICLE_CLUSTERS, QUOTE_CLUSTERS, QUOTES
from ..stages.quotes.kind import STATEMENT, quote_kind
from ..store import PLACEHOLDER, write_part

__all__ = ["quote_clusters", "article_clusters", "write_snapshot_quote_clusters", "write_snapshot_article_clusters",
           "near_duplicate_targets", "ARTICLE_COLUMNS"]

ARTICLE_COLUMNS = ["doc_id", "source_path", "site", "title", "published", "first_seen", "processed_at",
                   "near_duplicate_of"]
QUOTE_COLUMNS = ["quote_id", "doc_id", "text", "speaker_id", "speaker_name", "kind", "cluster_id", "similarity"]
_US_PER_HOUR = 3_600_000_000


def _timed(articles: pa.Table) -> pa.Table:
    """doc_id, outlet, at (published, else first_seen), dated, title of each article."""
    at = pc.coalesce(articles.column("published"), articles.column("first_seen"),
                     articles.column("processed_at"))
    return pa.table({
        "doc_id": articles.column("doc_id"),
        "outlet": pc.coalesce(articles.column("site"), articles.column("source_path")),
        "at": at,
        "dated": pc.is_valid(articles.column("published")),
        "title": articles.column("title"),
    })


def _hours(later: pa.ChunkedArray, earlier: pa.ChunkedArray) -> pa.Array:
    us = pc.subtract(later.cast(pa.int64()), earlier.cast(pa.int64()))
    return pc.divide(us.cast(pa.float64()), float(_US_PER_HOUR))


def _kinds(quotes: pa.Table) -> pa.ChunkedArray:
    """The kind column; rows written before it existed are classified now (only those)."""
    kind = quotes.column("kind") if "kind" in quotes.column_names else pa.nulls(quotes.num_rows, pa.string())
    if not kind.null_count:
        return kind
    texts = quotes.column("text").to_pylist()
    return pa.chunked_array([pa.array([k if k is not None else quote_kind(t)
                                       for k, t in zip(kind.to_pylist(), texts)], pa.string())])


def _wording(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text with case, runs of spaces and edge punctuation ignored: what counts as one wording."""
    t = pc.replace_substring_regex(pc.utf8_lower(text), r"\s+", " ")
    return pc.replace_substring_regex(t, r"^[\pP\s]+|[\pP\s]+$", "")


def _main_speakers(rows: pa.Table) -> pa.Table:
    """cluster_id, speaker_id, speaker_name, votes of the speaker most members are attributed to."""
    said = rows.filter(pc.is_valid(rows.column("speaker_id")))
    votes = said.group_by(["cluster_id", "speaker_id"], use_threads=False).aggregate(
        [("quote_id", "count"), ("speaker_name", "first")])
    votes = votes.sort_by([("cluster_id", "ascending"), ("quote_id_count", "descending"),
                           ("speaker_id", "ascending")])
    main = votes.group_by("cluster_id", use_threads=False).aggregate(
        [("speaker_id", "first"), ("speaker_name_first", "first"), ("quote_id_count", "first")])
    attributed = said.group_by("cluster_id").aggregate([("quote_id", "count")])
    main = main.join(attributed, "cluster_id")
    return main.rename_columns(["cluster_id", "speaker_id", "speaker_name", "votes", "attributed"])


def _outlets_in_order(rows: pa.Table) -> pa.Table:
    """cluster_id, outlets: each cluster's distinct outlets in the order of ``rows`` (sorted
    by cluster, then time). Arrow's ``distinct`` aggregation does not keep that order: its
    lists came out reordered, and differently for another set of rows, so the order of a
    cluster's outlets changed with the number of passes of the quote_clusters build."""
    seen = pa.table({"cluster_id": rows.column("cluster_id"), "outlet": rows.column("outlet"),
                     "row": pa.array(range(rows.num_rows), pa.int64())})
    seen = seen.filter(pc.is_valid(seen.column("outlet")))
    first = seen.group_by(["cluster_id", "outlet"], use_threads=False).aggregate([("row", "min")])
    # rows are sorted by cluster first, so ordering each outlet's first row keeps a cluster's together
    first = first.sort_by([("row_min", "ascending")])
    cluster = first.column("cluster_id").combine_chunks()
    runs = pc.run_end_encode(cluster, run_end_type=pa.int64())
    offsets = pa.concat_arrays([pa.array([0], pa.int64()), runs.run_ends])
    lists = pa.LargeListArray.from_arrays(offsets, first.column("outlet").combine_chunks())
    return pa.table({"cluster_id": runs.values, "outlets": lists.cast(pa.list_(pa.string()))})


def _with_outlets(agg: pa.Table, rows: pa.Table) -> pa.Table:
    """``agg`` with an ``outlets`` column (an empty list for a cluster with no known
    outlet, as Arrow's ``distinct`` gave: only an article missing from the join has none)."""
    agg = _attach(agg, _outlets_in_order(rows))
    at = agg.schema.get_field_index("outlets")
    return agg.set_column(at, "outlets", pc.fill_null(agg.column(at), pa.scalar([], pa.list_(pa.string()))))


def _attach(agg: pa.Table, other: pa.Table) -> pa.Table:
    """``agg`` with ``other``'s columns matched on cluster_id (null where absent): a left
    join that, unlike Arrow's, carries the list columns of ``agg``."""
    idx = pc.index_in(agg.column("cluster_id"), value_set=other.column("cluster_id").combine_chunks())
    for name in other.column_names[1:]:
        agg = agg.append_column(name, pc.take(other.column(name), idx))
    return agg


def quote_clusters(quotes: pa.Table, articles: pa.Table, run_id: str) -> pa.Table:
    """The ``quote_clusters`` table: statement clusters of two members or more."""
    if not quotes.num_rows:
        return QUOTE_CLUSTERS.empty_table()
    kind = _kinds(quotes)
    rows = quotes.filter(pc.and_(pc.equal(kind, STATEMENT), pc.is_valid(quotes.column("cluster_id"))))
    size = rows.group_by("cluster_id").aggregate([("quote_id", "count")])
    multi = size.filter(pc.greater_equal(size.column("quote_id_count"), 2)).column("cluster_id")
    rows = rows.filter(pc.is_in(rows.column("cluster_id"), value_set=multi.combine_chunks()))
    if not rows.num_rows:
        return QUOTE_CLUSTERS.empty_table()
    rows = rows.select(["quote_id", "doc_id", "text", "speaker_id", "speaker_name", "cluster_id", "similarity"])
    rows = rows.join(_timed(articles).drop_columns(["title"]), "doc_id", join_type="left outer")
    rows = rows.append_column("wording", _wording(rows.column("text")))
    rows = rows.append_column("canonical", pc.equal(rows.column("quote_id"), rows.column("cluster_id")))
    rows = rows.sort_by([("cluster_id", "ascending"), ("at", "ascending"), ("doc_id", "ascending")])
    agg = rows.group_by("cluster_id", use_threads=False).aggregate([
        ("quote_id", "count"), ("doc_id", "count_distinct"),
        ("at", "min"), ("at", "max"), ("wording", "count_distinct"), ("similarity", "min"),
        ("doc_id", "first"), ("outlet", "first"), ("dated", "first"), ("doc_id", "last"), ("outlet", "last"),
        ("text", "first")])
    # The canonical member's text when it is a statement of the cluster, else its earliest statement.
    canon = rows.filter(rows.column("canonical")).group_by("cluster_id", use_threads=False).aggregate(
        [("text", "first")]).rename_columns(["cluster_id", "canonical_text"])
    agg = _attach(_attach(_with_outlets(agg, rows), canon), _main_speakers(rows))
    agg = agg.sort_by([("at_min", "ascending"), ("cluster_id", "ascending")])
    attributed = pc.fill_null(agg.column("attributed"), 0)
    n = agg.num_rows
    return pa.table({
        "cluster_id": agg.column("cluster_id"),
        "canonical_text": pc.coalesce(agg.column("canonical_text"), agg.column("text_first")),
        "speaker_id": agg.column("speaker_id"),
        "speaker_name": agg.column("speaker_name"),
        "attributed": attributed.cast(pa.int32()),
        "speaker_disagree": pc.subtract(attributed, pc.fill_null(agg.column("votes"), 0)).cast(pa.int32()),
        "members": agg.column("quote_id_count").cast(pa.int32()),
        "articles": agg.column("doc_id_count_distinct").cast(pa.int32()),
        "outlets": agg.column("outlets"),
        "n_outlets": pc.list_value_length(agg.column("outlets")).cast(pa.int32()),
        **_first_and_last(agg),
        "last_doc_id": agg.column("doc_id_last"),
        "spread_hours": _hours(agg.column("at_max"), agg.column("at_min")),
        "wordings": agg.column("wording_count_distinct").cast(pa.int32()),
        "min_similarity": agg.column("similarity_min").cast(pa.float32()),
        "run_id": pa.array([run_id] * n, pa.string()),
    }).cast(QUOTE_CLUSTERS)


def _first_and_last(agg: pa.Table) -> dict[str, pa.ChunkedArray]:
    """Who ran a cluster first and last, and when: the same columns in both propagation tables."""
    return {
        "first_at": agg.column("at_min"),
        "first_dated": agg.column("dated_first"),
        "first_outlet": agg.column("outlet_first"),
        "first_doc_id": agg.column("doc_id_first"),
        "last_at": agg.column("at_max"),
        "last_outlet": agg.column("outlet_last"),
    }


def article_clusters(articles: pa.Table, run_id: str, pass_rows: int | None = None) -> pa.Table:
    """The ``article_clusters`` table: each article pointed at by a near-duplicate, with its reprints.

    More rows than ``pass_rows`` are built in passes over ranges of cluster ids (the
    quote_clusters build's ranges), each pass's temporaries returned before the next:
    its sorts, join and list aggregations took about five times its rows' columns, and
    the rows grow with the run (76,307 of 100,000 articles of bench_vs_by_hand's corpus
    are near-duplicates or their targets: 54 MB of Arrow memory, +98 MiB of the cluster
    step's articles half, where 20,000 articles took 15,000 rows). A cluster's rows all
    fall in one range, so the passes' rows are the one build's; only the order is global.
    """
    dup = articles.column("near_duplicate_of")
    if dup.null_count == len(dup):
        return ARTICLE_CLUSTERS.empty_table()
    key = pc.coalesce(dup, articles.column("doc_id"))
    passes = _passes_for(articles.num_rows, pass_rows or ARTICLE_PASS_ROWS)
    if passes == 1:
        return _article_clusters(articles, key, run_id)
    from .release import release_memory

    built = []
    for lo, hi in _ranges(passes):
        inside = pc.greater_equal(key, lo) if lo else None
        if hi is not None:
            inside = pc.less(key, hi) if inside is None else pc.and_(inside, pc.less(key, hi))
        built.append(_article_clusters(articles.filter(inside), key.filter(inside), run_id))
        release_memory()
    return pa.concat_tables(built).sort_by([("first_at", "ascending"), ("cluster_id", "ascending")])


def _article_clusters(articles: pa.Table, key: pa.ChunkedArray, run_id: str) -> pa.Table:
    """:func:`article_clusters` in one build (``key``: each row's cluster id, or its doc_id)."""
    dup = articles.column("near_duplicate_of")
    if dup.null_count == len(dup):
        return ARTICLE_CLUSTERS.empty_table()
    roots = pc.unique(dup.combine_chunks().drop_null())
    timed = _timed(articles).append_column("cluster_id", key)
    rows = timed.filter(pc.is_in(key, value_set=roots))
    rows = rows.sort_by([("cluster_id", "ascending"), ("at", "ascending"), ("doc_id", "ascending")])
    first = rows.group_by("cluster_id", use_threads=False).aggregate([("at", "min")])
    rows = rows.join(first, "cluster_id").sort_by(
        [("cluster_id", "ascending"), ("at", "ascending"), ("doc_id", "ascending")])
    rows = rows.append_column("delay", _hours(rows.column("at"), rows.column("at_min")))
    agg = rows.group_by("cluster_id", use_threads=False).aggregate([
        ("doc_id", "count"), ("doc_id", "list"), ("delay", "list"),
        ("at", "min"), ("at", "max"), ("title", "first"), ("dated", "first"), ("outlet", "first"),
        ("doc_id", "first"), ("outlet", "last")])
    agg = _with_outlets(agg, rows).sort_by([("at_min", "ascending"), ("cluster_id", "ascending")])
    return pa.table({
        "cluster_id": agg.column("cluster_id"),
        "title": agg.column("title_first"),
        "members": agg.column("doc_id_count").cast(pa.int32()),
        "outlets": agg.column("outlets"),
        "n_outlets": pc.list_value_length(agg.column("outlets")).cast(pa.int32()),
        "doc_ids": agg.column("doc_id_list"),
        "delays_hours": agg.column("delay_list"),
        **_first_and_last(agg),
        "spread_hours": _hours(agg.column("at_max"), agg.column("at_min")),
        "run_id": pa.array([run_id] * agg.num_rows, pa.string()),
    }).cast(ARTICLE_CLUSTERS)


def _replace_one(staging: Path, name: str, rows: pa.Table, run_date: str, part: str) -> int:
    existing = list((staging / name).rglob("*.parquet"))
    if not rows.num_rows and all(f.name == PLACEHOLDER for f in existing):
        return 0  # still empty: the linked placeholder stays (an export copies nothing new)
    shutil.rmtree(staging / name, ignore_errors=True)  # the previous snapshot's rows: links only
    (staging / name).mkdir(parents=True, exist_ok=True)
    return write_part(staging, name, rows, part, run_date)


def _quote_columns(folder: Path, columns: list[str] = QUOTE_COLUMNS, clusters: tuple[str, str | None] = ("", None),
                   ) -> pa.Table:
    """The few quotes columns the builder needs (rows of an older ketl: nulls where a column is new),
    of the quotes in clusters of two members or more: only those can be in ``quote_clusters``
    (the scan filters as it reads; the whole table's texts were 290 MB of a worker at 100,000
    articles). ``clusters``: only the cluster ids from ``[lo, hi)`` (``hi`` None: no bound)."""
    import pyarrow.dataset as ds

    root = folder / "quotes"
    schema = pa.schema([QUOTES.field(c) for c in columns])
    if not root.is_dir() or not any(root.rglob("*.parquet")):
        return schema.empty_table()
    full = QUOTES.append(pa.field("run_date", pa.string()))
    size, cid = ds.field("cluster_size"), ds.field("cluster_id")
    where = (size >= 2) | ~size.is_valid()
    lo, hi = clusters
    if lo or hi is not None:
        where = where & (cid >= lo) if lo else where
        where = where & (cid < hi) if hi is not None else where
        where = where & cid.is_valid()
    return ds.dataset(root, format="parquet", partitioning="hive", schema=full).to_table(
        columns=columns, filter=where, batch_readahead=_READAHEAD, fragment_readahead=1)


def near_duplicate_targets(folder: Path) -> pa.Array:
    """The articles some near-duplicate points at (distinct ``near_duplicate_of`` values): one
    narrow scan of the articles table, which both cluster tables need."""
    from .first_seen import article_columns

    dup = article_columns(folder, ["near_duplicate_of"], lambda t: pc.is_valid(t.column(0))).column(0)
    return pc.unique(dup.combine_chunks()) if len(dup) else pa.array([], pa.string())


def _needed_articles(folder: Path, doc_ids: pa.ChunkedArray | None = None,
                     targets: pa.Array | None = None) -> pa.Table:
    """The article rows either table can use: near-duplicates, the articles they point at
    (``targets``, :func:`near_duplicate_targets`: read when not given) and the articles of
    the clustered quotes (``doc_ids``; the others take no part in either)."""
    from .first_seen import article_columns

    dup = near_duplicate_targets(folder) if targets is None else targets
    wanted = pa.chunked_array([dup, *(doc_ids.chunks if doc_ids is not None else [])], pa.string())
    wanted = pc.unique(wanted.combine_chunks()) if len(wanted) else pa.array([], pa.string())
    return article_columns(folder, ARTICLE_COLUMNS, lambda t: pc.or_(
        pc.is_valid(t.column("near_duplicate_of")), pc.is_in(t.column("doc_id"), value_set=wanted)))


# Quotes per pass of the quote_clusters build: its joins and sorts took about four times
# the columns' size (436 MB of Arrow memory for the 555,216 quotes of 100,000 articles of
# bench_vs_by_hand's corpus, nearly all clustered), so a larger table is built in passes
# over ranges of cluster ids, each reading only its range's rows. The output does not
# depend on the passes (tested): a cluster's rows all fall in one pass, and its outlets
# are ordered by the rows, not by Arrow's ``distinct`` (which reordered them per pass).
# The step at 100,000 articles (555,216 quotes), fresh process: 250,000 (4 passes) 421-438
# MiB, 5.2-5.9 s CPU; 125,000 (8) 362-368 MiB, 5.8 s; 62,500 (16) 348-353 MiB, 8.9 s (each
# pass scans the quotes table). 20,000 articles (about 111,000 quotes, one pass): 347 MiB.
PASS_ROWS = 125_000
# Article rows per pass of the article_clusters build (:func:`article_clusters`): 20,000
# articles of bench_vs_by_hand's corpus need about 15,000 rows (one pass), 100,000 need
# 76,307 (four passes of about 19,000).
ARTICLE_PASS_ROWS = 20_000
# Batches a scan reads ahead: none. Each pass's scan reads whole row groups (texts
# included) before its filter, and the default 16 buffered were 120 MB of every pass.
_READAHEAD = 0
_HEX = "0123456789abcdef"  # cluster ids are quote ids, hex digests: even ranges of the first digit


def write_snapshot_article_clusters(staging: Path, run_id: str, run_date: str, part: str,
                                    targets: pa.Array | None = None) -> int:
    """``article_clusters`` alone: it reads only the articles table, so it can be built as soon
    as that is written, beside the quotes table's rewrite (rows written). ``targets``:
    :func:`near_duplicate_targets` when the caller read them (read here otherwise)."""
    return _replace_one(staging, "article_clusters", article_clusters(_needed_articles(staging, None, targets), run_id),
                        run_date, part)


def write_snapshot_quote_clusters(staging: Path, run_id: str, run_date: str, part: str,
                                  pass_rows: int = PASS_ROWS, targets: pa.Array | None = None) -> int:
    """``quote_clusters`` alone, from the clustered quotes and their articles (rows written).
    ``targets``: :func:`near_duplicate_targets` of the articles table as it now is, when the
    articles half passed them on (one scan of that table fewer)."""
    passes = _passes(staging, pass_rows)
    if passes == 1:
        quotes = _quote_columns(staging)
        # the same article rows as the two tables built together read (the join's input unchanged)
        clusters = quote_clusters(quotes, _needed_articles(staging, quotes.column("doc_id"), targets), run_id)
    else:
        articles = _needed_articles(staging, _quote_columns(staging, ["doc_id"]).column("doc_id"), targets)
        # A cluster's rows all fall in one range and the builder works per cluster, so the
        # passes' rows are the whole build's; only its final order is global.
        clusters = pa.concat_tables([_quote_pass(staging, r, articles, run_id) for r in _ranges(passes)])
        clusters = clusters.sort_by([("first_at", "ascending"), ("cluster_id", "ascending")])
    return _replace_one(staging, "quote_clusters", clusters, run_date, part)


def _quote_pass(staging: Path, clusters: tuple[str, str | None], articles: pa.Table, run_id: str) -> pa.Table:
    """One pass of the quote_clusters build; the pool's pages are returned after it, or each
    pass's joins and sorts were laid over the last one's freed pages (three passes at
    100,000 articles grew the step from 412 to 518 MiB)."""
    from .release import release_memory

    try:
        return quote_clusters(_quote_columns(staging, clusters=clusters), articles, run_id)
    finally:
        release_memory()


def _passes(staging: Path, pass_rows: int) -> int:
    """Passes of the quote_clusters build: the stored quotes (from the files' footers) over
    ``pass_rows``, rounded up to a power of two, at most 16."""
    import pyarrow.parquet as pq

    return _passes_for(sum(pq.read_metadata(p).num_rows for p in (staging / "quotes").rglob("*.parquet")), pass_rows)


def _passes_for(rows: int, pass_rows: int) -> int:
    """``rows`` over ``pass_rows``, rounded up to a power of two, at most 16."""
    passes = 1
    while passes < 16 and rows > passes * pass_rows:
        passes *= 2
    return passes


def _ranges(passes: int) -> list[tuple[str, str | None]]:
    """``passes`` ranges ``[lo, hi)`` of cluster ids covering every string."""
    step = len(_HEX) // passes
    bounds = ["", *(_HEX[k] for k in range(step, len(_HEX), step)), None]
    return list(zip(bounds[:-1], bounds[1:]))
