"""CPU of the repair and entity stages per article, in fresh processes as a run's workers are.

Each round starts one process per version (this checkout, and with ``--base
SRC`` another checkout's ``src``, e.g. a ``git worktree add --detach`` of the
commit to compare with); the versions take turns so that a busy spell of the
shared machine hits both. A process measures with ``time.process_time``: the
import of the stages, then two batches of ``--batch`` articles of the
bench_vs_by_hand corpus through ``repair_documents`` and ``resolve_entities``
(the first batch pays what a fresh worker loads lazily, the second is warm).
Prints the best and median of the rounds, in ms per article.

    python benchmarks/bench_stage_cpu.py --base /tmp/perf-base/src --rounds 5
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
t0 = time.process_time()
from ketl.document import Document
try:
    from ketl.stages.entities.stage import EntitySettings, resolve_entities
    from ketl.stages.entities.gazetteer import Gazetteer
    from ketl.stages.repair.stage import RepairSettings, repair_documents
except ImportError:  # a version before the stage packages (issue #14)
    from ketl.entities import EntitySettings, resolve_entities
    from ketl.gazetteer import Gazetteer
    from ketl.repair import RepairSettings, repair_documents
out = {"import": time.process_time() - t0}
paths = sorted(Path(sys.argv[1]).rglob("*.txt"))
n = int(sys.argv[2])
gaz = Gazetteer.load()
for label, chunk in (("first", paths[:n]), ("second", paths[n:2 * n])):
    docs = [Document.from_source(doc_id=p.name, source_path=p.name, source_sha256="", source_encoding="utf-8",
                                 source=p.read_text(encoding="utf-8")) for p in chunk]
    t = time.process_time()
    docs = list(repair_documents(docs, RepairSettings(), protected=gaz.protects))
    out[f"repair {label}"] = (time.process_time() - t) / len(chunk) * 1e3
    t = time.process_time()
    list(resolve_entities(docs, gaz, EntitySettings()))
    out[f"entities {label}"] = (time.process_time() - t) / len(chunk) * 1e3
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", help="src folder of the version to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_vs_by_hand import build_corpus

    versions = {"this checkout": str(HERE.parent / "src")}
    if args.base:
        versions["base"] = str(Path(args.base).resolve())
    results: dict[str, list[dict]] = {v: [] for v in versions}
    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(Path(tmp), 2 * args.batch)
        for _ in range(args.rounds):
            for label, src in versions.items():
                env = {**os.environ, "PYTHONPATH": src}
                done = subprocess.run([sys.executable, "-c", CHILD, tmp, str(args.batch)], env=env,
                                      capture_output=True, text=True, check=True)
                results[label].append(json.loads(done.stdout))
    print(f"{args.rounds} rounds, batches of {args.batch} articles; "
          f"load average {os.getloadavg()[0]:.1f}; import in CPU s, stages in CPU ms per article (best / median)")
    for label, rows in results.items():
        cells = ", ".join(f"{k} {min(r[k] for r in rows):.3f} / {statistics.median(r[k] for r in rows):.3f}"
                          for k in rows[0])
        print(f"{label:>14}: {cells}")


if __name__ == "__main__":
    main()
