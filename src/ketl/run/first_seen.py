"""``articles.first_seen``: the first time ketl processed a doc_id, kept across runs.

A re-read or re-curated article gets new rows, but it was seen before: the
stored value wins. Rows written before the column existed give their
``processed_at``, the best record of when they were first processed.

Also the one-time upgrade of article parts written before ``published`` was a
timestamp (it held the JSONL string as given): such parts are rewritten with the
parsed date and the string in ``published_raw``, so no reader meets two types.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..schemas import ARTICLES

__all__ = ["article_columns", "keep_first_seen", "upgrade_published"]


def article_columns(folder: Path | None, columns: list[str], keep=None) -> pa.Table:
    """``columns`` of every stored article row in a snapshot folder (typed as the schema today).

    An older part whose ``published`` is the string as given (before it was a
    timestamp) reads as null there rather than failing the run. ``keep(rows)``,
    when given, is a mask of the rows wanted, applied part by part (a few
    rows of a large table are never all read at once)."""
    import pyarrow.dataset as ds

    schema = pa.schema([ARTICLES.field(c) for c in columns])
    root = folder / "articles" if folder is not None else None
    if root is None or not root.is_dir() or not any(root.rglob("*.parquet")):
        return schema.empty_table()
    parts = []
    for frag in ds.dataset(root, format="parquet", partitioning="hive").get_fragments():
        names = frag.physical_schema.names
        t = frag.to_table(columns=[c for c in columns if c in names])
        for c in columns:
            f = schema.field(c)
            if c not in names:
                t = t.append_column(f, pa.nulls(t.num_rows, f.type))
            elif t.schema.field(c).type != f.type:
                try:
                    t = t.set_column(t.schema.get_field_index(c), f, t.column(c).cast(f.type))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    t = t.set_column(t.schema.get_field_index(c), f, pa.nulls(t.num_rows, f.type))
        t = t.select(columns).cast(schema)
        parts.append(t.filter(keep(t)) if keep is not None else t)
    return pa.concat_tables(parts) if parts else schema.empty_table()


def keep_first_seen(articles: pa.Table, stored: pa.Table) -> pa.Table:
    """``articles`` with each doc_id's stored ``first_seen`` (or ``processed_at``) where it has one."""
    if not stored.num_rows or not articles.num_rows:
        return articles
    seen = pc.coalesce(stored.column("first_seen"), stored.column("processed_at"))
    old = pa.table({"doc_id": stored.column("doc_id"), "old": seen}).group_by("doc_id").aggregate(
        [("old", "min")])
    ids = articles.column("doc_id")
    idx = pc.index_in(ids, value_set=old.column("doc_id").combine_chunks())
    if not pc.any(pc.is_valid(idx)).as_py():
        return articles
    prior = pc.take(old.column("old_min"), idx)
    col = articles.schema.get_field_index("first_seen")
    return articles.set_column(col, articles.schema.field(col), pc.coalesce(prior, articles.column(col)))


def _upgraded(part: pa.Table) -> pa.Table:
    """An older article part in today's schema: published parsed, the string kept, new columns null."""
    from ..ingest.dates import parse_published

    raw = part.column("published").cast(pa.string())
    parsed = [parse_published(v) for v in raw.to_pylist()]
    columns = {}
    for f in ARTICLES:
        if f.name == "published":
            columns[f.name] = pa.array(parsed, f.type)
        elif f.name == "published_raw":
            columns[f.name] = raw
        elif f.name in part.column_names:
            columns[f.name] = part.column(f.name).cast(f.type)
        else:
            columns[f.name] = pa.nulls(part.num_rows, f.type)
    return pa.table(columns, schema=ARTICLES)


def upgrade_published(staging: Path) -> int:
    """Rewrite the staging snapshot's article parts whose ``published`` is still a string; parts rewritten."""
    from ..store import rewrite_rows

    def fix(rows: pa.Table):
        return _upgraded if pa.types.is_string(rows.schema.field("published").type) else None

    return rewrite_rows(staging, "articles", ["published"], fix)
