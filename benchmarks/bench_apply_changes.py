"""CPU of ``document.apply_changes`` on the calls the text stages really make, two versions side by side.

The calls are recorded once (``--record``: every stage over ``--n`` articles of the
bench_vs_by_hand corpus, each call's document state and changes kept, cached under
~/.cache/ketl-bench), then replayed in fresh processes, this checkout and
``--base SRC`` taking turns so a busy spell of the shared machine hits both.
Each child prints the CPU of the replay and a digest of every result (text,
edits, position map, source offsets of a sample of positions): the two digests
must agree. ``--instructions``: valgrind's instruction counts instead (the
replay once, minus the same process without it): figures the load does not move.

    python benchmarks/bench_apply_changes.py --base /tmp/rep-base/src --n 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "ketl-bench" / "apply-calls"
# The modules that import apply_changes by name: their calls are the ones recorded.
CALLERS = ("ketl.stages.repair.stage", "ketl.stages.boilerplate.stage", "ketl.stages.boilerplate.metadata",
           "ketl.stages.entities.stage", "ketl.stages.quotes.stage", "ketl.ingest.read")

CHILD = r"""
import hashlib, pickle, sys, time
from array import array
from ketl import document as D

calls = pickle.load(open(sys.argv[1], "rb"))
rounds = int(sys.argv[2])

def fresh():
    out = []
    for doc_id, source, text, segments, edits, changes, stage in calls:
        doc = D.Document(doc_id=doc_id, source_path="", source_sha256="", source_encoding="utf-8",
                         source=source, text=text)
        doc._segments = None if segments is None else tuple(array("q", s) for s in segments)
        doc.edits = list(edits)
        out.append((doc, changes, stage))
    return out

best = 0.0 if rounds == 0 else None  # 0: the calls' input only (bench's --instructions base line)
work = fresh()
for r in range(rounds):
    work = fresh() if r else work
    t = time.process_time()
    for doc, changes, stage in work:
        D.apply_changes(doc, changes, stage)
    spent = time.process_time() - t
    best = spent if best is None else min(best, spent)
h = hashlib.sha256()
for doc, _, _ in (work if len(sys.argv) < 4 else ()):  # no digest when counting instructions
    h.update(doc.text.encode("utf-8", "surrogatepass"))
    h.update(repr([(e.stage, e.rule, e.before, e.after, e.source_line, e.source_start, e.source_end, e.seq)
                   for e in doc.edits]).encode("utf-8", "surrogatepass"))
    n = len(doc.text)
    h.update(repr([doc.source_offset(p) for p in range(0, n + 1, max(1, n // 50))]).encode())
print(best, h.hexdigest())
"""


def record(n: int, path: Path) -> None:
    """Run every stage over the corpus, keeping each apply_changes call's input."""
    import importlib

    sys.path.insert(0, str(HERE))
    import profile_stages as ps
    from ketl import document as D

    calls: list[tuple] = []
    real = D.apply_changes

    def recording(doc, changes, stage):
        changes = list(changes)
        seg = doc._segments  # noqa: SLF001
        calls.append((doc.doc_id, doc.source, doc.text, None if seg is None else [list(s) for s in seg],
                      list(doc.edits), changes, stage))
        return real(doc, changes, stage)

    for name in CALLERS:
        module = importlib.import_module(name)
        if hasattr(module, "apply_changes"):
            module.apply_changes = recording
    ps.documents(n, "end")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(calls, f, protocol=pickle.HIGHEST_PROTOCOL)
    by_stage: dict[str, list[int]] = {}
    for c in calls:
        by_stage.setdefault(c[6], []).append(len(c[5]))
    print(f"recorded {len(calls)} calls over {n} articles into {path}")
    for stage, sizes in sorted(by_stage.items()):
        print(f"  {stage:<24}{len(sizes):>7} calls, {sum(sizes) / len(sizes):6.1f} changes a call")


def replay(src: Path, path: Path, rounds: int) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(rounds)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1]


def instructions(src: Path, path: Path) -> float:
    """Instructions of one replay of the calls, counted by valgrind (see bench_stage_instructions.py)."""
    sys.path.insert(0, str(HERE))
    from bench_stage_instructions import count_instructions

    return (count_instructions(str(src), CHILD, [str(path), "1", "count"], "apply_changes")
            - count_instructions(str(src), CHILD, [str(path), "0", "count"], "input only"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, help="the src folder of the version to compare with")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5, help="fresh processes per version")
    ap.add_argument("--record", action="store_true", help="record the calls anew")
    ap.add_argument("--instructions", action="store_true", help="valgrind instruction counts instead of CPU")
    args = ap.parse_args()
    path = CACHE / f"calls-{args.n}.pkl"
    if args.record or not path.exists():
        record(args.n, path)
    this = HERE.parent / "src"
    sides = {"this": this} | ({"base": args.base} if args.base else {})
    if args.instructions:
        counts = {name: instructions(src, path) / args.n for name, src in sides.items()}
        for name, c in counts.items():
            print(f"{name:<6} apply_changes instructions/article: {c:,.0f}")
        if args.base:
            print(f"this/base {counts['this'] / counts['base']:.3f}")
        return
    spent: dict[str, list[float]] = {k: [] for k in sides}
    digests: dict[str, set[str]] = {k: set() for k in sides}
    for _ in range(args.rounds):
        for name, src in sides.items():
            t, digest = replay(src, path, 3)
            spent[name].append(t)
            digests[name].add(digest)
    per = 1e3 / args.n
    for name in sides:
        print(f"{name:<6} apply_changes ms CPU/article: best {min(spent[name]) * per:.4f}, "
              f"median {statistics.median(spent[name]) * per:.4f}   digest {sorted(digests[name])}")
    if args.base:
        print(f"this/base (best) {min(spent['this']) / min(spent['base']):.3f}, "
              f"(median) {statistics.median(spent['this']) / statistics.median(spent['base']):.3f}; "
              f"results {'identical' if digests['this'] == digests['base'] else 'DIFFER'}")
    print(json.dumps({"load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
