"""CPU of the boilerplate stage on the AEB pages alone, two versions side by side.

The bench_vs_by_hand corpus repeats real bodies and site furniture far more
than a real corpus does, so a cache keyed on a line's text, or anything else
that profits from repeats, looks better there than it is. The 181 AEB pages
(``../shared/bench/aeb/html-text.json``) repeat nothing: this measures the
stage (metadata + boilerplate, no site statistics) on them, in fresh processes
taking turns (this checkout, and ``--base SRC``), each run over the whole list
(``clean_documents``, as a batch step calls it) and a page per call; prints the
best and median CPU ms per page of the rounds and base/this.

    python benchmarks/bench_boilerplate_aeb_cpu.py --base /tmp/base/src --rounds 5
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
AEB = HERE.parents[1] / "shared" / "bench" / "aeb" / "html-text.json"

CHILD = r"""
import json, sys, time
from ketl.document import Document
from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules
pages = json.loads(open(sys.argv[1], encoding="utf-8").read())["output"]
texts = [v["articleBody"] for _, v in sorted(pages.items())]
rules = load_rules()
def docs():
    return [Document.from_source(doc_id=str(k), source_path=f"aeb/{k}.txt", source_sha256="",
                                 source_encoding="utf-8", source=t) for k, t in enumerate(texts)]
list(clean_documents(docs(), rules))  # lazy tables and caches, as a worker's warm-up
out = {}
for mode in ("whole", "one"):
    # (bp-8) the long-line memo (rules._long) forgets the pages: no page is seen before (no repeats)
    getattr(rules, "_long", {}).clear()
    batch = docs()
    t = time.process_time()
    if mode == "whole":
        list(clean_documents(batch, rules))
    else:
        for d in batch:
            list(clean_documents([d], rules))
    out[mode] = (time.process_time() - t) / len(batch) * 1e3
print(json.dumps(out))
"""


def _run(src: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    else:
        env["PYTHONPATH"] = str(HERE.parent / "src")
    done = subprocess.run([sys.executable, "-c", CHILD, str(AEB)], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="src folder of the version to compare with")
    ap.add_argument("--this", help="src folder to measure instead of this checkout's (a snapshot with extra packages)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not AEB.is_file():
        sys.exit(f"no AEB pages at {AEB}")
    runs: dict[str, list[dict[str, float]]] = {"this": [], "base": []}
    for _ in range(args.rounds):
        runs["this"].append(_run(args.this))
        runs["base"].append(_run(args.base))
    load = os.getloadavg()[0]
    print(f"boilerplate on the 181 AEB pages, ms CPU/page, {args.rounds} rounds; load average {load:.1f}")
    print(f"{'calls':<12}{'this best':>11}{'this median':>13}{'base best':>11}{'base median':>13}{'base/this':>11}")
    for mode, label in (("whole", "whole list"), ("one", "page a call")):
        this = [r[mode] for r in runs["this"]]
        base = [r[mode] for r in runs["base"]]
        print(f"{label:<12}{min(this):>11.3f}{statistics.median(this):>13.3f}{min(base):>11.3f}"
              f"{statistics.median(base):>13.3f}{min(base) / min(this):>11.3f}")


if __name__ == "__main__":
    main()
