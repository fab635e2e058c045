"""Dump every table the batch steps write (repair → boilerplate → entities → quotes), to diff two versions.

Texts: the seed articles, the AEB pages (html-text.json), the AEB human-written
bodies (ground-truth.json), the multilingual test texts under tests/data and the
first N articles of the bench_vs_by_hand corpus. They go through the pipeline's
Prefect-free steps (prepare_batch, merge_site_lines, finish_batch) in one temporary
folder; every row of every table is printed as JSON, minus run ids and timestamps.
The script reaches the code only through ``ketl.run.batch`` and ``ketl.settings`` (``ketl.pipeline`` and ``ketl.config`` before #14) so
that it runs unchanged on a version before and after a restructure:

    PYTHONPATH=/tmp/base/src python benchmarks/dump_stages.py > old.jsonl
    PYTHONPATH=src python benchmarks/dump_stages.py > new.jsonl
    cmp old.jsonl new.jsonl
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import SHARED, build_corpus  # noqa: E402

# mtime_ns: the work folder's file rows (files-*.parquet) carry the copied files' stat, new every dump
VOLATILE = {"run_id", "processed_at", "ingested_at", "created_at", "updated_at", "first_seen", "last_seen", "mtime_ns"}


def build_raw(raw: Path, n: int) -> None:
    for p in sorted((SHARED / "seeds").glob("*.txt")):
        shutil.copy(p, raw / p.name)
    bench = SHARED / "bench" / "aeb"
    for name, sub in (("html-text.json", "aeb"), ("ground-truth.json", "truth")):
        data = json.loads((bench / name).read_text(encoding="utf-8"))
        pages = data.get("output", data)
        (raw / sub).mkdir()
        for k, v in sorted(pages.items()):
            (raw / sub / f"{k[:16]}.txt").write_text(v["articleBody"], encoding="utf-8")
    tests_data = HERE.parent / "tests" / "data"
    if tests_data.is_dir():
        shutil.copytree(tests_data, raw / "testdata")
    if n:
        build_corpus(raw / "corpus", n)


def rows(path: Path):
    import pyarrow.parquet as pq

    for f in sorted(path.rglob("*.parquet")):
        for row in pq.read_table(f).to_pylist():
            parts = f.relative_to(path).parts
            table = parts[0] if len(parts) > 1 else f.stem.rsplit("-", 1)[0]
            yield table, {k: v for k, v in row.items() if k not in VOLATILE}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="articles of the benchmark corpus")
    args = ap.parse_args()
    try:  # the layout since #14
        from ketl.run import batch as p
        from ketl.settings import Settings
    except ImportError:  # a version before it (compared against)
        from ketl import pipeline as p
        from ketl.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        build_raw(raw, args.n)
        scan = sys.modules[p.SourceFile.__module__].scan
        units = scan(raw)
        settings = Settings(raw=str(raw))
        ctx = p.RunContext(run_id="dump", raw=str(raw), staging=str(Path(tmp) / "staging"),
                           settings=settings, config_hash=settings.config_hash(),
                           started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        Path(ctx.staging).mkdir()
        p.check_resources(settings)
        batches = [units[i:i + 200] for i in range(0, len(units), 200)]
        for b, chunk in enumerate(batches):
            p.prepare_batch(ctx, b, chunk)
        import pyarrow.parquet as pq
        pq.write_table(p.merge_site_lines(ctx, None, list(range(len(batches)))),
                       ctx.work / "sitelines-active.parquet")
        for b in range(len(batches)):
            p.finish_batch(ctx, b)
        out = []
        for table, row in [*rows(Path(ctx.staging)), *rows(ctx.work)]:
            out.append(json.dumps([table, row], ensure_ascii=False, sort_keys=True, default=str))
        print("\n".join(sorted(out)))


if __name__ == "__main__":
    main()
