"""The pool workers' garbage-collector policy (run/worker_gc.py) against Python's defaults.

Each round runs, in two fresh processes one after the other, every batch step of a
run over the first N articles of bench_vs_by_hand's corpus as one pool worker
would (warm-up, then prepare, site lines, finish, register, bands, finalize):
once with CPython's default collector, once with the workers' policy (after the
warm-up and after each step: ``worker_gc.before_warm_up`` / ``start_worker`` /
``step_done``). Prints
per side and round: CPU seconds the collector spent during the warm-up and the steps
(``gc.callbacks``, timed with ``time.thread_time``: the figure the load hardly
moves), the CPU of the worker policy's collections between steps, the collections
per generation, the unreachable objects they found, the stages' ms per article
(``stage_seconds``, as a run reports them), the whole process's CPU and its peak RSS:

    PYTHONPATH=src python benchmarks/bench_worker_gc.py [--n 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_side(policy: str, n: int, cache: Path, batch_size: int) -> dict:
    """The steps in this process under ``policy`` ('default' or 'worker')."""
    import gc
    import resource

    sys.path.insert(0, str(HERE))
    import profile_run_layer as prl
    from ketl.run import batch, dedup, warm, worker_gc

    src, _ = prl.cached_corpus(cache, n)
    spent = {"gc": 0.0, "found": 0, "by_gen": [0, 0, 0], "outside": 0.0}
    started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if spent.get("hooking"):  # a step_done collection: counted in step_end_s
            return
        if phase == "start":
            started.append(time.thread_time())
        elif started:
            spent["gc"] += time.thread_time() - started.pop()
            spent["found"] += info["collected"]
            spent["by_gen"][info["generation"]] += 1

    gc.callbacks.append(on_gc)
    if policy == "worker":  # as flows/pool.py's _worker_start and traced do
        original_warm = warm.warm_worker

        def warm_worker(*args):
            warm.keep_pandas_out()
            worker_gc.before_warm_up()
            try:
                original_warm(*args)
            finally:
                worker_gc.start_worker()

        warm.warm_worker = warm_worker
        for module, name in ((batch, "prepare_batch"), (batch, "finish_batch"), (dedup, "band_shard"),
                             (dedup, "register_index"), (dedup, "finalize_half")):
            setattr(module, name, _after(getattr(module, name), worker_gc.step_done, spent))
    t = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        figures = prl.run_steps(src, Path(tmp), batch_size)
    cpu = time.process_time() - t
    gc.callbacks.remove(on_gc)
    stages = {k[6:]: v / n * 1e3 for k, v in figures.items() if k.startswith("stage ")}
    return {"gc_s": spent["gc"], "step_end_s": spent["outside"], "collections": spent["by_gen"],
            "found": spent["found"], "stages_ms": sum(v for k, v in stages.items() if k != "dedup bands"),
            "by_stage": stages, "cpu_s": cpu, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _after(fn, hook, spent: dict):
    """``fn``, then ``hook`` (timed apart: it runs outside the stages' timers)."""
    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        t, spent["hooking"] = time.thread_time(), True
        hook()
        spent["outside"] += time.thread_time() - t
        spent["hooking"] = False
        return out
    return wrapped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ketl-profile-run-layer")
    ap.add_argument("--side", choices=("default", "worker"), help=argparse.SUPPRESS)  # one side, in a child
    args = ap.parse_args()
    if args.side:
        print(json.dumps(one_side(args.side, args.n, args.cache, args.batch_size)))
        return
    print(f"{args.n} articles, batches of {args.batch_size}; load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'side':<8}{'gc CPU s':>9}{'step end s':>11}{'found':>7}  {'collections':<18}"
          f"{'stages ms/a':>12}{'CPU s':>8}{'peak MiB':>9}")
    for r in range(args.rounds):
        for side in ("default", "worker"):
            out = subprocess.run([sys.executable, __file__, "--side", side, "--n", str(args.n), "--batch-size",
                                  str(args.batch_size), "--cache", str(args.cache)],
                                 capture_output=True, text=True, check=True).stdout
            f = json.loads(out.strip().splitlines()[-1])
            print(f"{side:<8}{f['gc_s']:9.2f}{f['step_end_s']:11.3f}{f['found']:7d}  {str(f['collections']):<18}"
                  f"{f['stages_ms']:12.3f}{f['cpu_s']:8.2f}{f['peak_mib']:9.0f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
