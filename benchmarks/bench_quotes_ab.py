"""CPU of quote extraction, two versions on the *same* texts (by default the curated texts of this checkout).

bench_stages_ab.py feeds each version its own stages' output, so a version whose
boilerplate keeps more text hands its quote stage more to read. Here the texts
(and entity mentions) come once from one version's (``--texts-from``) repair → boilerplate →
entities over the seeds, the AEB pages and ``--n`` articles of the
bench_vs_by_hand corpus; then each round starts one fresh process per version
(taking turns) that times, with ``time.process_time``, quote extraction alone,
split into its parts when the version has them: spans, speakers, kind and
canonical names. ``--profile`` prints a cProfile of each version instead.

    python benchmarks/bench_quotes_ab.py --base /tmp/cpu-base-020/src --n 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_stage_instructions import count_instructions  # noqa: E402 - a sibling script

PREPARE = r"""
import dataclasses, pickle, sys
from pathlib import Path
try:
    from ketl.run import batch as p
    from ketl.stages.boilerplate.site_stats import site_and_line_keys as _site_line_keys
    from ketl.settings import Settings
except ImportError:  # a version before #14
    from ketl import pipeline as p
    from ketl.config import Settings
from ketl.document import Document
res = p.resources(Settings())
reg = {s.name: s for s in getattr(p, "STAGES", ())}
paths = sorted(Path(sys.argv[1]).rglob("*.txt"))
docs = [Document.from_source(doc_id=f.name, source_path=str(f), source_sha256="", source_encoding="utf-8",
                             source=f.read_text(encoding="utf-8")) for f in paths]
stats = None
def stage(name, before):
    if reg:
        return list(reg[name].run(docs, dataclasses.replace(res, site_stats=stats)))
    return list(before())
docs = stage("repair", lambda: p.repair_documents(docs, res.repair, protected=res.gazetteer.protects))
stats = p.SiteLineStats(res.boilerplate.repetition_settings())
for d in docs:
    stats.add(*_site_line_keys(d))
docs = stage("boilerplate", lambda: p.clean_documents(docs, res.rules, stats, res.boilerplate))
docs = stage("entities", lambda: p.resolve_entities(docs, res.gazetteer, res.entities))
with open(sys.argv[2], "wb") as f:
    pickle.dump([(d.text, [(e.surface, e.canonical, e.type) for e in getattr(d, "entities", [])]) for d in docs], f)
"""

CHILD = r"""
import json, pickle, sys, time
from types import SimpleNamespace as NS
with open(sys.argv[1], "rb") as f:
    items = pickle.load(f)
clock = time.process_time
try:
    from ketl.stages.quotes import stage as q
except ImportError:  # 0.2.0
    from ketl import quotes as q
settings = q.QuoteSettings()
new = hasattr(q, "_find_quotes")
ents = [[NS(surface=s, canonical=c, type=t) for s, c, t in e] for _, e in items]
def run_all():
    if new:
        for (text, _), e in zip(items, ents):
            q._find_quotes(text, settings, e)
    else:
        for text, _ in items:
            q.find_quotes(text, settings)
def spans_only():
    for text, _ in items:
        if q._MARKS.search(text):
            q._spans(text, settings)
if sys.argv[2].startswith("ins"):  # under valgrind: warm, then once more for "ins1"
    run_all()
    if sys.argv[2] == "ins1":
        run_all()
    sys.exit()
if sys.argv[2] == "profile":
    import cProfile, pstats
    run_all()  # warm the lexicon and caches as a worker would be
    pr = cProfile.Profile()
    pr.enable(); run_all(); pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(25)
    sys.exit()
out = {}
t = clock(); run_all(); out["quotes (cold)"] = clock() - t  # as a fresh worker: lexicon, caches
t = clock(); run_all(); out["quotes (warm)"] = clock() - t
t = clock(); spans_only(); out["spans only"] = clock() - t
out["speakers+rest"] = out["quotes (warm)"] - out["spans only"]
if new:
    from ketl.stages.quotes.kind import quote_kind
    bodies = [qq.text for (text, _), e in zip(items, ents) for qq in q._find_quotes(text, settings, e)[0]]
    t = clock()
    for b in bodies:
        quote_kind(b)
    out["of which kind"] = clock() - t
print(json.dumps({k: v / len(items) * 1e3 for k, v in out.items()}))
"""


def _instructions(src: str, items: Path, mode: str) -> int:
    return count_instructions(src, CHILD, [str(items), mode], "quotes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="src folder of the version to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000, help="articles of the benchmark corpus")
    ap.add_argument("--texts-from", choices=("this", "base"), default="this",
                    help="whose stages make the curated texts both versions read")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of each version")
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions per article of a warm pass instead (valgrind; load-proof)")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_stages_ab import build_input

    versions = {"this": str(HERE.parent / "src"), "base": str(Path(args.base).resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in").mkdir()
        build_input(Path(tmp) / "in", args.n)
        items = Path(tmp) / "items.pkl"
        env = {**os.environ, "PYTHONPATH": versions[args.texts_from]}
        subprocess.run([sys.executable, "-c", PREPARE, str(Path(tmp) / "in"), str(items)], env=env, check=True)
        texts = [t for t, _ in pickle.loads(items.read_bytes())]
        n = len(texts)
        print(f"{n} curated texts ({args.texts_from}'s stages: {sum(map(len, texts)) / n:.0f} chars, "
              f"{sum(t.count(chr(10)) + 1 for t in texts) / n:.1f} lines per text), the same for both versions")
        if args.instructions:
            print("warm quote extraction, instructions per article (valgrind cachegrind):")
            per = {v: (_instructions(src, items, "ins1") - _instructions(src, items, "ins0")) / n
                   for v, src in versions.items()}
            print("".join(f"{v:>8} {per[v] / 1e6:.4f} M" for v in versions) + f"   this/base {per['this'] / per['base']:.3f}")
            return
        results: dict[str, list[dict]] = {v: [] for v in versions}
        for _ in range(1 if args.profile else args.rounds):
            for label, src in versions.items():
                env = {**os.environ, "PYTHONPATH": src}
                mode = "profile" if args.profile else "time"
                run = subprocess.run([sys.executable, "-c", CHILD, str(items), mode], env=env,
                                     capture_output=True, text=True)
                if run.returncode:
                    sys.exit(f"{label} ({src}) failed:\n{run.stderr}")
                if args.profile:
                    print(f"==== {label} ({src})\n{run.stdout}")
                else:
                    results[label].append(json.loads(run.stdout.strip().splitlines()[-1]))
    if args.profile:
        return
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'ms/article':<16}" + "".join(f"{v + ' best':>12}{v + ' median':>14}" for v in versions))
    for part in results["this"][0]:
        row = f"{part:<16}"
        for v in versions:
            xs = [r[part] for r in results[v] if part in r]
            row += f"{min(xs):>12.4f}{statistics.median(xs):>14.4f}" if xs else f"{'-':>12}{'-':>14}"
        print(row)


if __name__ == "__main__":
    main()
