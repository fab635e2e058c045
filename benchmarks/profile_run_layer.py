"""Where the batch steps' CPU goes outside the stages (issue 15), in this process.

Runs every Prefect-free step of a run (prepare_batch, merge_site_lines,
finish_batch, register, band tasks, finalize) over the first N articles of
bench_vs_by_hand's corpus in batches of ``--batch-size``, under cProfile, and
prints CPU seconds (``time.process_time``) per step, the stages' own seconds
(the steps' ``stage_seconds``), what is left outside them, and the run-layer
functions' cumulative seconds (pickling between steps, Parquet writes, table
builders):

    PYTHONPATH=src python benchmarks/profile_run_layer.py --n 4000 [--batch-size 1000] [--top 30]

``--no-profile`` measures without cProfile (its overhead inflates the many-small-calls
code); run it on two versions alternately to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import cached_corpus  # noqa: E402

# Run-layer functions to report (module suffix, function name).
WATCH = [
    ("run/batch.py", "_run_stages"), ("run/batch.py", "_guarded"), ("run/batch.py", "_snapshot"),
    ("run/batch.py", "_dump"), ("run/batch.py", "_load"), ("run/handoff.py", "pack"), ("run/handoff.py", "unpack"),
    ("run/batch.py", "articles_table"), ("run/batch.py", "quotes_pending"), ("run/batch.py", "_dates"),
    ("run/batch.py", "edits_table"), ("run/batch.py", "rejects_table"), ("store.py", "write_part"),
    ("parquet/core.py", "write_table"), ("parquet/core.py", "read_table"),
    ("site_stats.py", "site_and_line_keys"), ("site_stats.py", "add"), ("site_stats.py", "to_arrow"),
    ("run/batch.py", "_site_stats"), ("entities/stage.py", "entities_table"),
    ("entities/stage.py", "suggestions_table"), ("ingest/read.py", "read_units"),
    ("run/dedup.py", "register_index"), ("run/dedup.py", "band_shard"), ("run/dedup.py", "finalize_half"),
    ("run/dedup.py", "write_quote_propagation"), ("run/release.py", "release_memory"),
]


def run_steps(raw: Path, tmp: Path, batch_size: int) -> dict[str, float]:
    from ketl.ingest.scan import scan
    from ketl.run import batch as p
    from ketl.run import dedup as d
    from ketl.settings import Settings
    import pyarrow.parquet as pq

    units = scan(raw, False)
    settings = Settings(raw=str(raw))
    staging = tmp / "staging"
    (staging / "_state").mkdir(parents=True)
    ctx = p.RunContext(run_id="profile-run", raw=str(raw), staging=str(staging), settings=settings,
                       config_hash=settings.config_hash(), started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    p.check_resources(settings)  # compiled before the clock starts, as a warm worker has
    from ketl.run.warm import warm_worker

    warm_worker(settings, ctx.config_hash)
    cpu: dict[str, float] = {}
    stages: dict[str, float] = {}

    def step(name, fn, *args):
        t = time.process_time()
        out = fn(*args)
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - t
        for k, v in getattr(out, "stage_seconds", {}).items():
            stages[k] = stages.get(k, 0.0) + v
        return out

    batches = [units[i:i + batch_size] for i in range(0, len(units), batch_size)]
    numbers = list(range(len(batches)))
    for b, chunk in enumerate(batches):
        step("prepare", p.prepare_batch, ctx, b, chunk)
    step("site lines", lambda: pq.write_table(p.merge_site_lines(ctx, None, numbers), ctx.files.site_lines_active()))
    for b in numbers:
        step("finish", p.finish_batch, ctx, b)
    plan = step("register", lambda: d.DedupPlan({n: d.register_index(ctx, n, numbers, None) for n in d.INDEXES}))
    shards = [step("bands", d.band_shard, ctx, plan, s) for s in range(d.SHARDS)]
    stages["dedup bands"] = sum(s.seconds for s in shards)
    step("finalize", lambda: [d.finalize_half(ctx, n, numbers, None, plan, shards, []) for n in d.INDEXES])
    step("propagation", d.write_quote_propagation, ctx)
    return {**{f"step {k}": v for k, v in cpu.items()}, **{f"stage {k}": v for k, v in stages.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--top", type=int, default=25, help="also the top functions by own time")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ketl-profile-run-layer")
    args = ap.parse_args()
    src, _ = cached_corpus(args.cache, args.n)
    prof = None if args.no_profile else cProfile.Profile(time.process_time)  # CPU, not wall: a loaded machine
    with tempfile.TemporaryDirectory() as tmp_s:
        if prof:
            prof.enable()
        figures = run_steps(src, Path(tmp_s), args.batch_size)
        if prof:
            prof.disable()
    steps = sum(v for k, v in figures.items() if k.startswith("step "))
    staged = sum(v for k, v in figures.items() if k.startswith("stage "))
    print(f"{args.n} articles, batches of {args.batch_size}; CPU s (process_time), ms per article in brackets")
    for k, v in figures.items():
        print(f"  {k:<24}{v:8.2f}  ({v / args.n * 1e3:.3f})")
    print(f"  {'outside the stages':<24}{steps - staged:8.2f}  ({(steps - staged) / args.n * 1e3:.3f})")
    if not prof:
        return
    st = pstats.Stats(prof)
    print("\nrun-layer functions, cumulative s (profiled):")
    for (path, _line, name), (_cc, calls, tt, ct, _callers) in sorted(st.stats.items(), key=lambda kv: -kv[1][3]):
        if any(path.endswith(m) and name == f for m, f in WATCH):
            print(f"  {ct:8.2f} {calls:8d}  {path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]}:{name}")
    print(f"\ntop {args.top} by own time:")
    st.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
