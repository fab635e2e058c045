"""CPU of the boilerplate stage outside the line classifier and apply_changes, two
versions side by side (fresh processes, taking turns: the machine is shared).

    python benchmarks/bench_boilerplate_own_cpu.py --base /tmp/base/src [--this SRC] [--rounds 3] [--n 2000]

Each child takes ``--n`` articles of the bench_vs_by_hand corpus through repair
(and phase A's site counts and carried line keys, as profile_stages.py does),
warms the stage up once, then runs it ``--runs`` times: the stage's CPU
(time.process_time around the call), and the classifier's functions and
apply_changes timed by wrappers with time.perf_counter (cheap: 50 ns a
call, the load shows in them as wall time, so the best run is kept). "own" is
the stage minus those: the steps this benchmark is about. Prints ms per article.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import importlib, json, pickle, sys, time
sys.path.insert(0, sys.argv[1])
import profile_stages as ps
n, runs = int(sys.argv[2]), int(sys.argv[3])
docs, res, stats, run, _ = ps.documents(n, "boilerplate")
OTHERS = [("stage", "classify_stripped"), ("stage", "document_stopwords"), ("stage", "teaser_lines"),
          ("stage", "headline_lists"), ("stage", "copied_lines"), ("stage", "apply_changes")]
spent = [0.0]
for mod, name in OTHERS:
    module = importlib.import_module(f"ketl.stages.boilerplate.{mod}")
    f = getattr(module, name, None)
    if f is None:
        continue
    def timed(*a, _f=f, **k):
        t = time.perf_counter()
        try:
            return _f(*a, **k)
        finally:
            spent[0] += time.perf_counter() - t
    setattr(module, name, timed)
frozen = pickle.dumps(docs)
run("boilerplate", pickle.loads(frozen))  # warm-up
best = None
for _ in range(runs):
    batch = pickle.loads(frozen)
    spent[0] = 0.0
    c, w = time.process_time(), time.perf_counter()
    run("boilerplate", batch)
    cpu, wall = time.process_time() - c, time.perf_counter() - w
    row = {"stage": cpu, "others": spent[0] * cpu / wall if wall else spent[0]}
    if best is None or row["stage"] - row["others"] < best["stage"] - best["others"]:
        best = row
print(json.dumps({k: v / len(docs) * 1e3 for k, v in best.items()}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="src folder of the version to compare with")
    ap.add_argument("--this", help="src folder to measure instead of this checkout's")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per child (the best is kept)")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    versions = {"base": str(Path(args.base).resolve()),
                "this": str(Path(args.this).resolve()) if args.this else str(HERE.parent / "src")}
    got: dict[str, list[dict[str, float]]] = {v: [] for v in versions}
    for r in range(args.rounds):
        for label, src in (versions.items() if r % 2 == 0 else reversed(versions.items())):
            env = {**os.environ, "PYTHONPATH": src}
            out = subprocess.run([sys.executable, "-c", CHILD, str(HERE), str(args.n), str(args.runs)],
                                 env=env, capture_output=True, text=True, check=True)
            got[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"boilerplate, ms CPU/article ({args.n} articles; best of {args.runs} runs per child; "
          f"median of {args.rounds} children per version; load {os.getloadavg()[0]:.1f})")
    print(f"{'':<8}{'stage':>8}{'others':>8}{'own':>8}")
    own = {}
    for label, rows in got.items():
        stage = statistics.median(r["stage"] for r in rows)
        others = statistics.median(r["others"] for r in rows)
        own[label] = statistics.median(r["stage"] - r["others"] for r in rows)
        print(f"{label:<8}{stage:>8.3f}{others:>8.3f}{own[label]:>8.3f}")
    print(f"own: this/base {own['this'] / own['base']:.3f}")


if __name__ == "__main__":
    main()
