"""Instructions per article of each text stage, counted by valgrind: figures a busy machine does not move.

On the shared 2-core machine ``time.process_time`` of the same code varies by
20-30 % from run to run with the load (other processes evict the caches and
share the cores' pipelines), more than most changes to a stage. Cachegrind
counts the instructions a process executes instead: the same code on the same
input gives the same count within a few hundredths of a percent, however busy the
machine.

For each version (this checkout, and ``--base SRC``) and stage, the child runs
twice under ``valgrind --tool=cachegrind --cache-sim=no``: both runs load the
resources, warm every stage up to the measured one on 100 articles, and take
``--n`` articles of the bench_vs_by_hand corpus through the stages before it;
only the second also runs the measured stage on them. The difference divided
by ``--n`` is the stage's instructions per article. Instructions are not time
(a cache miss costs more than an add), so confirm a change with
bench_stages_ab.py too; but a smaller count for the same output is less work.
Each child runs about 40x slower than natively (a minute or two).

    python benchmarks/bench_stage_instructions.py --base /tmp/base/src --stages repair,quotes [--one-at-a-time]

``--one-at-a-time``: each stage gets one document per call, as in a run (run.batch._guarded).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("repair", "boilerplate", "entities", "quotes", "sketch")

CHILD = r"""
import dataclasses, sys
from pathlib import Path
from ketl.run import batch as p
from ketl.stages.boilerplate.site_stats import site_and_line_keys as _site_line_keys
from ketl.settings import Settings
from ketl.document import Document
from ketl.dedup.index import sketch_table

corpus, n, measured, on = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
one_at_a_time = sys.argv[5] == "1"
res = p.resources(Settings())
registry = {s.name: s for s in p.STAGES}
paths = sorted(corpus.rglob("*.txt"))

def docs_of(chunk):
    return [Document.from_source(doc_id=f.name, source_path=f.name, source_sha256="", source_encoding="utf-8",
                                 source=f.read_text(encoding="utf-8")) for f in chunk]

def run(name, docs, r):
    if name == "sketch":
        dedup = res.settings["dedup"]
        sketch_table([d.text for d in docs], dedup.articles)
        sketch_table([q.text for d in docs for q in d.quotes], dedup.quotes)
        return docs
    if one_at_a_time:  # as a run's batch step calls a stage (run.batch._guarded)
        return [out for d in docs for out in registry[name].run([d], r)]
    return list(registry[name].run(docs, r))

def through(docs, measure):
    r = res
    for name in %(stages)r:
        if name == "boilerplate":
            stats = p.SiteLineStats(res.boilerplate.repetition_settings())
            for d in docs:
                stats.add(*_site_line_keys(d))
            r = dataclasses.replace(res, site_stats=stats)
        if name == measured:
            if measure:
                run(name, docs, r)
            return
        docs = run(name, docs, r)

through(docs_of(paths[n:n + 100]), True)  # lazy tables and caches loaded in both runs
through(docs_of(paths[:n]), on)
""" % {"stages": STAGES}


def count_instructions(src: str, child: str, args: list[str], what: str) -> int:
    """Instructions valgrind counts for ``python -c child *args`` with ``src`` first on the path."""
    # A fixed hash seed: set and dict order moves repair's count by about 1.5 % from run to run.
    env = {**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
    run = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          sys.executable, "-c", child, *args], env=env, capture_output=True, text=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode or not found:
        sys.exit(f"{src} ({what}) failed:\n{run.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def instructions(src: str, corpus: Path, n: int, stage: str, on: bool, one_at_a_time: bool = False) -> int:
    return count_instructions(src, CHILD, [str(corpus), str(n), stage, "1" if on else "0",
                                           "1" if one_at_a_time else "0"], stage)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", help="src folder of the version to compare with")
    ap.add_argument("--this", help="src folder to measure instead of this checkout's")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of {', '.join(STAGES)}")
    ap.add_argument("--n", type=int, default=300, help="articles of the benchmark corpus")
    ap.add_argument("--one-at-a-time", action="store_true",
                    help="call each stage with one document at a time, as a run's batch step does")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    stages = [s for s in args.stages.split(",") if s]
    if unknown := [s for s in stages if s not in STAGES]:
        sys.exit(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    versions = {"this": str(Path(args.this).resolve()) if args.this else str(HERE.parent / "src")}
    if args.base:
        versions["base"] = str(Path(args.base).resolve())
    sys.path.insert(0, str(HERE))
    from bench_vs_by_hand import build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(Path(tmp), args.n + 100)
        print(f"instructions per article ({args.n} articles of the bench_vs_by_hand corpus, "
              f"valgrind cachegrind; millions; {'one document per call' if args.one_at_a_time else 'whole input per call'})")
        print(f"{'stage':<12}" + "".join(f"{v:>10}" for v in versions) + ("   base/this" if args.base else ""))
        for stage in stages:
            per = {}
            for label, src in versions.items():
                off = instructions(src, Path(tmp), args.n, stage, False, args.one_at_a_time)
                on = instructions(src, Path(tmp), args.n, stage, True, args.one_at_a_time)
                per[label] = (on - off) / args.n
            row = f"{stage:<12}" + "".join(f"{per[v] / 1e6:>10.3f}" for v in versions)
            if args.base:
                row += f"   {per['base'] / per['this']:>9.3f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
