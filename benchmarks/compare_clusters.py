"""Are two versions' clusters the same? Compare the near-duplicate results of two datasets.

Compares, row for row, the tables the near-duplicate step decides: ``quotes``
(cluster_id, cluster_size, is_canonical, similarity), ``articles``
(near_duplicate_of), ``quote_clusters``, ``article_clusters`` and both indexes'
main tables in the state (each item's cluster and similarity, in item order).
Either two ``ketl run`` outputs (``--out`` folders: their current snapshots) or
two folders kept by ``bench_run_steps_rss.py --keep`` (their ``stage``):

    python benchmarks/bench_run_steps_rss.py <work> --keep /tmp/before   # old code on the path
    python benchmarks/bench_run_steps_rss.py <work> --keep /tmp/after    # new code
    python benchmarks/compare_clusters.py /tmp/before /tmp/after

Rows are sorted by their id before the comparison (the tables' row order is
not part of their meaning, except the indexes', compared as stored); run ids
and timestamps of processing are left out. Exit 0 when every table is equal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

TABLES = {  # table -> the columns rows are sorted by
    "quotes": ["quote_id"],
    "articles": ["doc_id"],
    "quote_clusters": ["cluster_id"],
    "article_clusters": ["cluster_id"],
}
STATE = {"quote_index": "quote_index.parquet", "article_index": "article_index.parquet"}
IGNORED = {"run_id", "processed_at", "first_seen"}


def snapshot(folder: Path) -> Path:
    """The folder holding the tables: a kept replay's ``stage``, a dataset's current snapshot, or itself."""
    if (folder / "stage").is_dir():
        return folder / "stage"
    current = folder / ".ketl" / "current"
    return current.resolve() if current.exists() else folder


def _table(root: Path, name: str) -> pa.Table | None:
    path = root / name
    if not path.is_dir() or not any(path.rglob("*.parquet")):
        return None
    t = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    t = t.drop_columns([c for c in t.column_names if c in IGNORED])
    return t.sort_by([(c, "ascending") for c in TABLES[name]] + [(c, "ascending") for c in t.column_names
                                                               if c not in TABLES[name] and _sortable(t, c)])


def _sortable(t: pa.Table, column: str) -> bool:
    typ = t.schema.field(column).type
    return not (pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_struct(typ))


def compare(before: Path, after: Path) -> list[tuple[str, str]]:
    """(table, verdict) for every table either side has."""
    a, b = snapshot(before), snapshot(after)
    out = []
    for name in TABLES:
        ta, tb = _table(a, name), _table(b, name)
        if ta is None and tb is None:
            continue
        out.append((name, _verdict(ta, tb)))
    for name, file in STATE.items():
        pa_, pb = a / "_state" / file, b / "_state" / file
        if not pa_.exists() and not pb.exists():
            continue
        ta = pq.read_table(pa_) if pa_.exists() else None
        tb = pq.read_table(pb) if pb.exists() else None
        out.append((f"state {name}", _verdict(ta, tb)))
    return out


def _verdict(ta: pa.Table | None, tb: pa.Table | None) -> str:
    if ta is None or tb is None:
        return f"DIFFERENT: only one side has it ({'after' if ta is None else 'before'})"
    if ta.schema.remove_metadata() != tb.schema.remove_metadata():
        return f"DIFFERENT schema: {ta.schema.names} vs {tb.schema.names}"
    if not ta.replace_schema_metadata().equals(tb.replace_schema_metadata()):
        diff = [c for c in ta.column_names if not ta.column(c).equals(tb.column(c))]
        return f"DIFFERENT ({ta.num_rows} vs {tb.num_rows} rows; columns {diff})"
    return f"equal ({ta.num_rows} rows)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args()
    results = compare(args.before, args.after)
    for name, verdict in results:
        print(f"{name:<22} {verdict}")
    if not results:
        raise SystemExit("no table found on either side")
    sys.exit(0 if all(v.startswith("equal") for _, v in results) else 1)


if __name__ == "__main__":
    main()
