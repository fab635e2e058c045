"""Peak RSS and CPU of each run-wide step (register, band shards, cluster + write), each in a fresh process.

The register and cluster steps are replayed per index (``register-quotes``,
``cluster-articles``, ...) as the pool runs them, side by side, then the
propagation tables that read both.

A worker process keeps the high-water mark of every step it ran, so the worker
peak of ``bench_rss_scale.py`` says *that* memory grows with the run, not *where*.
This script replays the near-duplicate steps of a real run on its kept work
folder, one step per fresh process (as a pool worker would run it), and prints
each one's peak RSS (``ru_maxrss``) and CPU seconds. Keep a work folder by
killing a run right after its batches (the crash tests' fault point):

    KETL_FAULT=after_batches ketl run --raw <corpus> --out /tmp/k/out --skip boilerplate --skip repair --skip entities
    python benchmarks/bench_run_steps_rss.py /tmp/k/out/.ketl/staging/<run>.work

The replay writes into a temporary staging folder; the work folder's dedup
scratch files are rewritten with the same content.

An incremental run's steps read the stored dataset too (its indexes, its
quotes and articles). Keep a work folder of a run that adds files to a stored
dataset (a first run without the fault, new files, then the fault run) and
name that output folder with ``--stored``: the steps get its current snapshot
as ``previous``, and the staging folder starts as ``Store.begin`` makes it
(the stored tables linked, the quotes rewritten):

    ketl run --raw <corpus> --out /tmp/k/out                              # the stored dataset
    <add files to the corpus>
    KETL_FAULT=after_batches ketl run --raw <corpus> --out /tmp/k/out   # the incremental run, kept
    python benchmarks/bench_run_steps_rss.py /tmp/k/out/.ketl/staging/<run>.work --stored /tmp/k/out
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path


def _ctx(staging: Path):
    from ketl.run.batch import RunContext
    from ketl.settings import Settings

    settings = Settings(raw=str(staging)).with_cli(skip=["boilerplate", "repair", "entities"])
    return RunContext(run_id="replay00-run", raw=str(staging), staging=str(staging), settings=settings,
                      config_hash="replay", started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


def _step(staging: Path, step: str, batches: list[int], previous: Path | None = None) -> None:
    """Run one step here (a child process) and pickle its result beside the staging folder;
    ``previous``: the stored snapshot an incremental run builds on."""
    from ketl.run import dedup
    from ketl.run.dedup import SHARDS, DedupPlan, band_shard, finalize_index, register_index

    if step == "imports":  # the floor: a process that imported the steps and ran nothing
        return
    ctx = _ctx(staging)
    keep = staging.parent / "results.pkl"
    done = pickle.loads(keep.read_bytes()) if keep.is_file() else {}
    if step.startswith("register-"):  # the pool runs the two indexes' steps side by side
        done.setdefault("plans", {})[step.split("-")[1]] = register_index(ctx, step.split("-")[1], batches, previous)
    elif step.startswith("bands-"):
        plan = DedupPlan(done["plans"])
        done.setdefault("shards", {})[step] = band_shard(ctx, plan, int(step.split("-")[1]), SHARDS)
    elif step.startswith("cluster-"):
        shards = [done["shards"][k] for k in sorted(done["shards"])] if "shards" in done else _kept_pairs(ctx)
        # as the pool runs it: the articles half also builds article_clusters (older code: finalize_index)
        half = getattr(dedup, "finalize_half", finalize_index)
        half(ctx, step.split("-")[1], batches, previous, DedupPlan(done["plans"]), shards, [])
    else:  # what follows both halves: quote_clusters (older code: both propagation tables)
        (getattr(dedup, "write_quote_propagation", None) or dedup.write_propagation)(ctx)
    keep.write_bytes(pickle.dumps(done))


def _kept_pairs(ctx) -> list:
    """The band tasks' pairs the kept run left in its work folder (``--steps`` without the
    band steps: register numbers items as that run did, so its pairs still fit)."""
    from ketl.run.dedup import INDEXES, SHARDS, ShardPairs

    return [ShardPairs(s, files={name: str(ctx.files.shard_pairs(name, s)) for name in INDEXES})
            for s in range(SHARDS)]


def _child(staging: Path, step: str, batches: list[int], previous: Path | None = None) -> tuple[float, float]:
    """Peak RSS MiB and CPU seconds of ``step`` in a fresh process."""
    code = ("import sys, pickle; sys.path.insert(0, sys.argv[1]); import bench_run_steps_rss as b; "
            "from pathlib import Path; b._step(Path(sys.argv[2]), sys.argv[3], pickle.loads(bytes.fromhex(sys.argv[4])), "
            "Path(sys.argv[5]) if sys.argv[5] else None)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(Path(__file__).parent), str(staging), step,
                             pickle.dumps(batches).hex(), str(previous or "")])
    _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own figures
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"step {step} failed ({proc.returncode})")
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", type=Path, help="a run's kept work folder (<staging>/<run>.work)")
    ap.add_argument("--keep", type=Path, help="replay into this folder and keep it (to compare two versions' tables)")
    ap.add_argument("--steps", help="comma-separated step-name prefixes to run (default: all; e.g. register,bands: "
                    "the band tasks need the register steps); without the band steps the cluster steps read "
                    "the pairs the kept run's band tasks left in the work folder")
    ap.add_argument("--stored", type=Path, help="the kept run's output folder, when it added files to a stored "
                    "dataset: its current snapshot is the steps' previous one (an incremental run)")
    ap.add_argument("--repeat", type=int, default=1, help="run the steps this many times (fresh staging each time)")
    args = ap.parse_args()
    from ketl.run.dedup import SHARDS

    batches = sorted(int(m.group(1)) for p in args.work.iterdir() if (m := re.fullmatch(r"quotes-(\d+)\.parquet", p.name)))
    steps = ["imports", "register-quotes", "register-articles", *[f"bands-{s}" for s in range(SHARDS)],
             "cluster-quotes", "cluster-articles", "propagation"]
    if args.steps:
        wanted = tuple(w for w in args.steps.split(",") if w)
        steps = [s for s in steps if s.startswith(wanted)]
    previous = None
    if args.stored is not None:
        from ketl.store import Store

        previous = Store(args.stored).current
        previous = previous.resolve() if previous is not None else None
    print(f"{len(batches)} batches from {args.work}; stored: {previous or 'none'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':<14}{'peak RSS MiB':>27}{'CPU s':>8}{'wall s':>8}")
    for _ in range(args.repeat):
        _replay(args.work, args.keep, steps, batches, previous)


def _replay(work: Path, keep: Path | None, steps: list[str], batches: list[int], previous: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="ketl-steps-") as scratch:
        tmp = keep or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        staging = Path(tmp) / "stage"
        for sub in ("_state", "articles", "quotes"):
            (staging / sub).mkdir(parents=True)
        if previous is not None:  # as Store.begin: the stored tables linked, but the rewritten ones
            from ketl.store import REWRITTEN, TABLES, _link_tree

            for table in TABLES:
                if table not in REWRITTEN:
                    _link_tree(previous / table, staging / table)
        os.symlink(work.resolve(), Path(tmp) / "stage.work")
        for step in steps:
            t = time.perf_counter()
            rss, cpu = _child(staging, step, batches, previous)
            print(f"{step:<14}{rss:27.0f}{cpu:8.2f}{time.perf_counter() - t:8.1f}", flush=True)


if __name__ == "__main__":
    main()
