"""The fixed cost of ``ketl run`` as a timeline: when Prefect is up, the pool warm, the first batch done.

Runs ``ketl run`` (temporary Prefect server, the local pool) in a fresh process
on bench_vs_by_hand's corpus with ``KETL_TIMELINE`` set (ketl.run.timeline), and
prints the seconds from the process start to each milestone:

    cli started, pool started, prefect imported, worker warm (each worker),
    flow started (Prefect's server is up and the flow run created),
    first batch done (read), first batch done (curate), committed,
    flow returned, pool closed, cli done (then the interpreter's exit), exit

plus the CPU seconds of the whole tree (``os.wait4``). Give several source
folders to compare versions; the runs alternate between them (``--repeat``
rounds), as on a shared machine a single run proves nothing:

    python benchmarks/bench_warm_start.py --n 2000 --repeat 3 /tmp/base/src src
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import cached_corpus  # noqa: E402 - a sibling script

BIN = Path(sys.executable).parent
ORDER = ["cli started", "pool started", "prefect imported", "worker warm", "flow started",
         "first batch done (read)", "first batch done (curate)", "committed", "flow returned", "pool closed",
         "cli done", "exit"]


def one_run(src: str, raw: Path, work: Path, home: Path) -> tuple[dict[str, float], float, float]:
    """Milestones (seconds after the start; the last worker for "worker warm"), wall and CPU seconds."""
    out, trace = work / "out", work / "timeline.tsv"
    shutil.rmtree(out, ignore_errors=True)
    trace.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PYTHONPATH=src, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               KETL_TIMELINE=str(trace))
    t0 = time.time()
    proc = subprocess.Popen([str(BIN / "ketl"), "run", "--raw", str(raw), "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ketl run failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    marks: dict[str, float] = {"exit": wall}
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            event, at, _pid = line.split("\t")
            marks[event] = max(marks.get(event, 0.0), float(at) - t0)  # the last worker to be warm
    return marks, wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="*", default=[str(HERE.parent / "src")], help="ketl source folders to compare")
    ap.add_argument("--n", type=int, default=2000, help="articles (bench_vs_by_hand's corpus; default 2000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds, alternating the versions")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "ketl-bench" / "vs-by-hand")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    raw, _ = cached_corpus(args.cache, args.n)
    home = args.cache / "prefect-home"
    results: dict[str, list[tuple[dict[str, float], float, float]]] = {s: [] for s in args.src}
    with tempfile.TemporaryDirectory(prefix="ketl-warm-start-") as tmp:
        for r in range(args.repeat):
            for src in args.src:
                load = os.getloadavg()[0]
                marks, wall, cpu = one_run(src, raw, Path(tmp), home)
                results[src].append((marks, wall, cpu))
                line = ", ".join(f"{e} {marks[e]:.1f}" for e in ORDER if e in marks)
                print(f"round {r + 1} {src}: load {load:.1f}; CPU {cpu:.1f} s; {line}", flush=True)
    print(f"\nmedians over {args.repeat} rounds, {args.n} articles, seconds from the start of `ketl run`:")
    print(f"{'milestone':<28}" + "".join(f"{Path(s).parent.name + '/' + Path(s).name:>22}" for s in args.src))
    for event in ORDER + ["CPU s"]:
        cells = []
        for src in args.src:
            vals = [c for _, _, c in results[src]] if event == "CPU s" else \
                [m[event] for m, _, _ in results[src] if event in m]
            cells.append(f"{statistics.median(vals):22.1f}" if vals else f"{'-':>22}")
        print(f"{event:<28}" + "".join(cells))


if __name__ == "__main__":
    main()
