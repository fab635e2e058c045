"""Does the run layer cost time? Batch steps in-process, and a whole run through the flow.

Prints, for N synthetic ~3 KB articles (bench_spine's corpus):

* ``steps``: docs/s of the Prefect-free batch steps (prepare_batch, merge_site_lines,
  finish_batch, register/band/finalize) in this process, best of ``--repeat``;
* ``flow``: the run's own seconds (after Prefect's start-up) of ``curate_with``
  with ``--workers`` processes, a first run and a run that finds nothing new.

Runs unchanged on the code before the run-layer change (``curate_with`` returned
a dict then), so two versions can be compared:

    PYTHONPATH=/tmp/base/src python benchmarks/bench_run_layer.py --docs 3000
    PYTHONPATH=src python benchmarks/bench_run_layer.py --docs 3000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_spine import make_corpus  # noqa: E402 - a sibling script, found through sys.path


def _field(summary, name: str):
    return summary[name] if isinstance(summary, dict) else getattr(summary, name)


def steps(raw: Path, tmp: Path, batch: int) -> float:
    """Seconds of every batch step over ``raw`` in this process."""
    from ketl.ingest.scan import scan
    from ketl.run import batch as p
    from ketl.run.dedup import SHARDS, band_shard, finalize_run, register_run
    from ketl.settings import Settings

    units = scan(raw, False)
    settings = Settings(raw=str(raw))
    staging = tmp / f"staging-{time.monotonic_ns()}"
    staging.mkdir()
    ctx = p.RunContext(run_id="bench-run", raw=str(raw), staging=str(staging), settings=settings,
                       config_hash=settings.config_hash(), started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    (staging / "_state").mkdir()
    for table in ("articles", "quotes"):
        (staging / table).mkdir()
    p.check_resources(settings)  # compiled before the clock starts, as a worker's first batch does
    import pyarrow.parquet as pq

    t = time.perf_counter()
    batches = [units[i:i + batch] for i in range(0, len(units), batch)]
    for b, chunk in enumerate(batches):
        p.prepare_batch(ctx, b, chunk)
    pq.write_table(p.merge_site_lines(ctx, None, list(range(len(batches)))), ctx.work / "sitelines-active.parquet")
    for b in range(len(batches)):
        p.finish_batch(ctx, b)
    plan = register_run(ctx, list(range(len(batches))), None)
    shards = [band_shard(ctx, plan, s) for s in range(SHARDS)]
    finalize_run(ctx, list(range(len(batches))), None, plan, shards)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-flow", action="store_true", help="only the in-process steps")
    args = ap.parse_args()
    import ketl

    print(f"ketl from {Path(ketl.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        raw = tmp / "raw"
        make_corpus(raw, args.docs)
        best = min(steps(raw, tmp, args.batch_size) for _ in range(args.repeat))
        print(f"steps: {args.docs} docs in {best:.2f} s = {args.docs / best:.0f} docs/s (best of {args.repeat})")
        if args.no_flow:
            return
        os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect-home"))
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
        from ketl.flows import curate_with

        for label in ("first run", "nothing new"):
            s = curate_with(workers=args.workers, raw=str(raw), out=str(tmp / "out"), batch_size=args.batch_size)
            secs = _field(s, "seconds")
            print(f"flow {label}: {_field(s, 'articles')} articles, {secs:.2f} s "
                  f"({_field(s, 'articles') / secs:.0f} docs/s), workers {args.workers}")


if __name__ == "__main__":
    main()
