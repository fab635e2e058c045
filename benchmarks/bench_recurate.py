"""Cost of re-curation (issue 13.5) on a large synthetic dataset, one core.

Prints seconds (wall and CPU) for:

* the quote table's clusters, every run: ``with_clusters`` (live members)
  against the earlier lookup in the index's cluster sizes;
* finding the stale files at run start (processed state x runs table);
* removing the stored rows of re-read files from the staging snapshot
  (``drop_replaced``: one pass per table), for 0.1 % and 10 % of the files.

    python benchmarks/bench_recurate.py [--articles N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ketl.settings import Settings
from ketl.dedup.index import QuoteIndex
from ketl.run.incremental import stale_files
from ketl.run.processed import Seen
from ketl.run.batch import RunContext, drop_replaced
from ketl.run.dedup import with_clusters


def timed(label: str, fn, repeat: int = 3):
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    print(f"{label:<58} {best_wall:8.3f} s wall {best_cpu:8.3f} s CPU")
    return result


def fake_index(n: int, rng: np.random.Generator) -> tuple[QuoteIndex, pa.Table]:
    """A quote index whose clusters are random (root <= item), without sketches."""
    ids = pa.array([f"{i:016x}" for i in range(n)])
    index = QuoteIndex()
    index._id_chunks, index._n = [ids], n
    root = np.arange(n)
    joins = rng.random(n) < 0.3  # 30 % of quotes join an earlier one
    root[joins] = (rng.random(joins.sum()) * np.flatnonzero(joins)).astype(np.int64)
    index._root = root[root]  # one level: a root is its own root
    quotes = pa.table({"quote_id": ids, "cluster_id": ids.take(pa.array(index._root)),
                       "similarity": pa.array(np.ones(n, np.float32))})
    return index, quotes


def old_clusters(quotes: pa.Table, index: QuoteIndex) -> pa.Table:
    """The lookup finalize_run did before: sizes over everything indexed."""
    sizes = index.cluster_sizes()
    where = pc.index_in(quotes.column("cluster_id"), value_set=sizes.column("cluster_id"))
    size = pc.fill_null(pc.take(sizes.column("cluster_size"), where), 1).cast(pa.int32())
    quotes = quotes.append_column("cluster_size", size)
    return quotes.append_column("is_canonical", pc.equal(quotes.column("cluster_id"), quotes.column("quote_id")))


RUNS = 24  # the dataset was written by this many runs, each a block of parts


def _run_of(part: int, parts: int) -> str:
    return f"{part * RUNS // parts:08d}-run"


def fake_staging(root: Path, files: int, parts: int) -> None:
    """articles/edits/entities/suggestions/rejects parts as a run leaves them (5 edits per article)."""
    per = files // parts
    for p in range(parts):
        paths = [f"site{p % 7}/{p:04d}-{i:05d}.txt" for i in range(per)]
        docs = [f"d{p:04d}{i:05d}" for i in range(per)]
        base = {"source_path": paths, "doc_id": docs, "run_id": [_run_of(p, parts)] * per}
        tables = {
            "articles": {**base, "text": ["Ереван — 埃里温 — Yerevan. " * 40] * per},
            "edits": {k: [x for x in v for _ in range(5)] for k, v in {**base, "rule": ["r"] * per}.items()},
            "entities": {"doc_id": docs, "run_id": base["run_id"], "surface": ["Baku"] * per},
            "suggestions": {**base, "span": ["Askelan"] * per},
            "rejects": {"source_path": paths[:2], "run_id": base["run_id"][:2], "reason": ["empty"] * 2},
        }
        for name, cols in tables.items():
            folder = root / name / "run_date=2026-01-01"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{_run_of(p, parts)[:8]}-{p:05d}.parquet"  # as pipeline.part_name names them
            pq.write_table(pa.table(cols), folder / name, compression="zstd")


def bench_drop(tmp: Path, files: int, parts: int, share: float, one_run: bool) -> None:
    template = tmp / "template"
    if not template.exists():
        fake_staging(template, files, parts)
    rng = np.random.default_rng(1)
    per = files // parts
    k = max(1, int(files * share))
    # one_run: the files of one run (an hourly batch edited upstream); else anywhere
    picked = rng.choice(files // RUNS, k, replace=False) if one_run else rng.choice(files, k, replace=False)
    replaced = [f"site{(i // per) % 7}/{i // per:04d}-{i % per:05d}.txt" for i in picked]
    staging = tmp / "staging"

    def run() -> int:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(template, staging, copy_function=os.link)  # hard links, as Store.begin makes
        ctx = RunContext(run_id="now", raw=str(tmp), staging=str(staging), settings=Settings(), config_hash="h",
                         started_at=datetime.now(timezone.utc))
        return drop_replaced(ctx, replaced, {_run_of(i // per, parts) for i in picked})

    where = "written by one run" if one_run else "anywhere"
    n = timed(f"drop_replaced: {len(replaced)} of {files} files ({share:.1%}, {where})", run)
    assert n == len(replaced), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=200_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n_quotes = args.articles * 3
    index, quotes = fake_index(n_quotes, rng)
    timed(f"quote clusters, old lookup ({n_quotes} quotes)", lambda: old_clusters(quotes, index))
    timed(f"quote clusters, with_clusters ({n_quotes} quotes)", lambda: with_clusters(quotes, index))
    processed = {f"site/{i:07d}.txt": Seen("s", 1, 1, 1, f"run{i % 2000}") for i in range(args.articles)}
    hashes = {f"run{i}": ("old" if i < 1000 else "new") for i in range(2000)}
    present = set(processed)
    timed(f"stale_files ({args.articles} processed files, 2000 runs)",
          lambda: stale_files(processed, hashes, "new", present))
    with tempfile.TemporaryDirectory() as tmp:
        for share, one_run in ((0.001, True), (0.001, False), (0.1, False)):
            bench_drop(Path(tmp), args.articles, max(1, args.articles // 1000), share, one_run)


if __name__ == "__main__":
    main()
