"""CPU per article of every text stage (repair, boilerplate, entities, quotes), two versions side by side.

Like bench_stage_cpu.py, each round starts one fresh process per version (this
checkout, and ``--base SRC``, e.g. an unpacked ``git archive`` of the commit to
compare with), taking turns so a busy spell of the shared machine hits both.
The child reaches the stages only through ``ketl.run.batch`` (``ketl.pipeline`` before #14): through its
registry ``STAGES`` (``run(docs, resources)``, since #14 phase 2) when it has one, else through the
per-stage functions it imported, so any two versions compare. Input: the
seeds, the AEB pages and ``--n`` articles of the bench_vs_by_hand corpus.
Prints the best and median of the rounds, in ms per article, and base/this.

    python benchmarks/bench_stages_ab.py --base /tmp/base/src --rounds 5 [--one-at-a-time]

``--one-at-a-time`` calls each stage with one document per call, as a run does:
a stage's batch-level work (repair's chunked language walk) shows as it costs there.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
from pathlib import Path
try:  # the layout since #14
    from ketl.run import batch as p
    from ketl.stages.boilerplate.site_stats import site_and_line_keys as _site_line_keys
    from ketl.settings import Settings
except ImportError:  # a version before it (compared against)
    from ketl import pipeline as p
    from ketl.config import Settings
from ketl.document import Document

import dataclasses
res = p.resources(Settings())
paths = sorted(Path(sys.argv[1]).rglob("*.txt"))
docs = [Document.from_source(doc_id=f.name, source_path=str(f.relative_to(sys.argv[1])), source_sha256="",
                             source_encoding="utf-8", source=f.read_text(encoding="utf-8")) for f in paths]
# Since #14 phase 2 every stage is called as the batch steps call it: the registry's run(docs, resources).
registry = {s.name: s for s in getattr(p, "STAGES", ())}
one_at_a_time = sys.argv[2] == "1"
def stage(name, docs, before, stats=None):
    if registry:
        r = dataclasses.replace(res, site_stats=stats)
        if one_at_a_time:  # as a run's batch step calls a stage (run.batch._guarded)
            return [out for d in docs for out in registry[name].run([d], r)]
        return list(registry[name].run(docs, r))
    return list(before())
out = {}
clock = time.process_time
t = clock()
docs = stage("repair", docs, lambda: p.repair_documents(docs, res.repair, protected=res.gazetteer.protects))
out["repair"] = clock() - t
stats = p.SiteLineStats(res.boilerplate.repetition_settings())
for d in docs:
    stats.add(*_site_line_keys(d))
t = clock()
docs = stage("boilerplate", docs, lambda: p.clean_documents(docs, res.rules, stats, res.boilerplate), stats)
out["boilerplate"] = clock() - t
t = clock()
docs = stage("entities", docs, lambda: p.resolve_entities(docs, res.gazetteer, res.entities))
out["entities"] = clock() - t
t = clock()
docs = stage("quotes", docs, lambda: p.extract_quotes(docs))
out["quotes"] = clock() - t
print(json.dumps({k: v / len(paths) * 1e3 for k, v in out.items()}))
"""


def build_input(folder: Path, n: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_vs_by_hand import SHARED, build_corpus

    for f in sorted((SHARED / "seeds").glob("*.txt")):
        (folder / f.name).write_bytes(f.read_bytes())
    pages = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))["output"]
    (folder / "aeb").mkdir()
    for k, v in sorted(pages.items()):
        (folder / "aeb" / f"{k[:16]}.txt").write_text(v["articleBody"], encoding="utf-8")
    build_corpus(folder / "corpus", n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", help="src folder of the version to compare with")
    ap.add_argument("--this", help="src folder to measure instead of this checkout's")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=1000, help="articles of the benchmark corpus")
    ap.add_argument("--one-at-a-time", action="store_true",
                    help="call each stage with one document at a time, as a run's batch step does "
                         "(run.batch._guarded); by default a stage gets the whole input at once")
    args = ap.parse_args()
    versions = {"this": str(Path(args.this).resolve()) if args.this else str(HERE.parent / "src")}
    if args.base:
        versions["base"] = str(Path(args.base).resolve())
    results: dict[str, list[dict]] = {v: [] for v in versions}
    with tempfile.TemporaryDirectory() as tmp:
        build_input(Path(tmp), args.n)
        for _ in range(args.rounds):
            for label, src in versions.items():
                env = {**os.environ, "PYTHONPATH": src}
                run = subprocess.run([sys.executable, "-c", CHILD, tmp, "1" if args.one_at_a_time else "0"], env=env, capture_output=True, text=True)
                if run.returncode:
                    sys.exit(f"{label} ({src}) failed:\n{run.stderr}")
                results[label].append(json.loads(run.stdout.strip().splitlines()[-1]))
    stages = list(results["this"][0])
    print(f"{args.rounds} rounds, {'one document per call' if args.one_at_a_time else 'whole input per call'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'ms/article':<14}" + "".join(f"{v + ' best':>12}{v + ' median':>14}" for v in versions)
          + ("   base/this (best)" if args.base else ""))
    for st in stages:
        row = f"{st:<14}"
        best = {}
        for v in versions:
            xs = [r[st] for r in results[v]]
            best[v] = min(xs)
            row += f"{min(xs):>12.3f}{statistics.median(xs):>14.3f}"
        if args.base:
            row += f"   {best['base'] / best['this']:>8.3f}"
        print(row)


if __name__ == "__main__":
    main()
