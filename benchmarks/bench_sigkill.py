"""The SIGKILL trial: kill a ketl run's whole process group at random moments.

Each trial copies a dataset that holds a first run, starts an incremental run
that adds new files, and kills its whole process group (``killpg(SIGKILL)``:
ketl, the pool workers, the watchdog) after a random delay between 0 and 1.1x
the time an uninterrupted run takes. Then it checks:

1. the dataset is readable by pyarrow, every table, and is exactly the earlier
   dataset or exactly the finished one (never half a run), and its state passes
   the commit manifest check;
2. no process of the killed group is alive 5 s later;
3. the next run (uninterrupted) succeeds;
4. the final dataset equals the one an uninterrupted run made (every table but
   ``runs``, with the run-specific columns left out).

All runs share one temporary Prefect server (started here) so a trial takes
seconds, not the 10-25 s of a server start-up; the server start itself is not
among the moments killed.

    python benchmarks/bench_sigkill.py [--trials 20] [--seed 1] [--workers 2] [--from-fraction 0.6] [--to-fraction 1.1]

Prints one line per trial and a summary; exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.dataset as ds

from ketl.run.watchdog import group_members

SHARED = Path(__file__).resolve().parents[2] / "shared"
TABLES = ("articles", "edits", "quotes", "rejects", "entities", "suggestions")
VOLATILE = {"run_id", "processed_at", "run_date"}


def build_raw(root: Path, n_base: int, n_new: int) -> tuple[Path, list[Path]]:
    """Seeds and benchmark bodies (many languages) as files under per-site folders."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    truth = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    texts += [v["articleBody"] for _, v in sorted(truth.items()) if v.get("articleBody")]
    raw = root / "raw"
    new = []
    for i in range(n_base + n_new):
        site = raw / f"site{i % 4}"
        site.mkdir(parents=True, exist_ok=True)
        path = site / f"{i:04d}.txt"
        # every fifth file a reprint of an earlier one: near-duplicates and quote clusters
        path.write_text(texts[(i // 5 if i % 5 == 4 else i) % len(texts)], encoding="utf-8")
        if i >= n_base:
            new.append(path)
    return raw, new


def ketl(raw: Path, out: Path, workers: int, env: dict, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "ketl.cli", "run", "--raw", str(raw), "--out", str(out),
           "--workers", str(workers), "--batch-size", "8"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)


def run_ok(raw: Path, out: Path, workers: int, env: dict) -> float:
    t = time.perf_counter()
    proc = ketl(raw, out, workers, env)
    _, err = proc.communicate(timeout=600)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ketl run failed ({proc.returncode}): {err[-2000:]}")
    return time.perf_counter() - t


def content(out: Path) -> dict[str, list]:
    """Every table but runs, rows sorted, run-specific columns left out."""
    result = {}
    for name in TABLES:
        table = ds.dataset(out / name, format="parquet", partitioning="hive").to_table()
        keep = [c for c in table.column_names if c not in VOLATILE]
        rows = table.select(keep).to_pylist()
        result[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return result


def trial(k: int, delay: float, base: Path, raw: Path, work: Path, workers: int, env: dict,
          before: dict, after: dict) -> tuple[bool, str]:
    from ketl.manifest import DamagedState
    from ketl.store import Store

    out = work / f"trial-{k}"
    shutil.copytree(base, out, symlinks=True)
    proc = ketl(raw, out, workers, env)
    time.sleep(delay)
    finished = proc.poll() is not None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    t0 = time.monotonic()
    while group_members(proc.pid) and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    left = group_members(proc.pid)
    if left:
        return False, f"{len(left)} processes of the group alive 5 s after the kill"
    try:
        seen = content(out)
    except Exception as exc:  # noqa: BLE001 - the point is to report any reader failure
        return False, f"dataset unreadable after the kill: {type(exc).__name__}: {exc}"
    state = "before" if seen == before else "after" if seen == after else None
    if state is None:
        return False, "dataset after the kill is neither the earlier nor the finished one"
    try:
        Store(out).verify()
    except DamagedState as exc:
        return False, f"state check failed after the kill: {exc}"
    try:
        run_ok(raw, out, workers, env)
    except RuntimeError as exc:
        return False, f"next run failed: {exc}"
    if content(out) != after:
        return False, "final dataset differs from the uninterrupted run"
    shutil.rmtree(out)
    return True, f"killed at {delay:5.2f} s ({'after exit' if finished else 'mid-run'}); dataset was '{state}'"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--base-files", type=int, default=40)
    ap.add_argument("--new-files", type=int, default=24)
    ap.add_argument("--from-fraction", type=float, default=0.0,
                    help="kill from this fraction of the uninterrupted run's time (0.6: the late phases, commit)")
    ap.add_argument("--to-fraction", type=float, default=1.1, help="... up to this fraction of it")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="ketl-sigkill-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    env = {**os.environ, "PREFECT_API_URL": server.api_url}
    try:
        raw, new = build_raw(work, args.base_files, args.new_files)
        hidden = work / "hidden"
        hidden.mkdir()
        for p in new:  # the first run sees only the base files
            p.rename(hidden / f"{p.parent.name}__{p.name}")
        base = work / "base"
        run_ok(raw, base, args.workers, env)
        for p in hidden.iterdir():
            site, name = p.name.split("__")
            p.rename(raw / site / name)
        before = content(base)
        reference = work / "reference"
        shutil.copytree(base, reference, symlinks=True)
        took = run_ok(raw, reference, args.workers, env)
        after = content(reference)
        print(f"uninterrupted incremental run: {took:.1f} s; {len(before['articles'])} -> "
              f"{len(after['articles'])} articles; killing at {args.from_fraction * took:.1f}-{args.to_fraction * took:.1f} s",
              flush=True)
        failures = 0
        for k in range(args.trials):
            delay = rng.uniform(args.from_fraction * took, args.to_fraction * took)
            ok, detail = trial(k, delay, base, raw, work, args.workers, env, before, after)
            failures += not ok
            print(f"trial {k + 1:2d}: {'ok  ' if ok else 'FAIL'} {detail}", flush=True)
        print(f"{args.trials - failures}/{args.trials} trials kept the dataset whole "
              f"({100 * (args.trials - failures) / args.trials:.0f} %)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
