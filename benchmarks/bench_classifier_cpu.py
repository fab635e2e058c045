"""CPU of the classifier's two calls per article (document_stopwords, classify_stripped), two versions side by side.

The boilerplate stage runs once over the seeds, the AEB pages and ``--n``
articles of the bench_vs_by_hand corpus while the arguments of its calls to
``document_stopwords`` and ``classify_stripped`` are recorded (cached in
``--cache``). Each round then replays them, per article in the stage's order,
in one fresh process per version (this checkout, and ``--base SRC``), taking
turns so a busy spell of the shared machine hits both; the CPU
(time.process_time) of each call is summed. The replay also hashes every
result, so the two versions' outputs are compared on every call.

    python benchmarks/bench_classifier_cpu.py --base /tmp/base/src --n 2000 --rounds 5
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

CHILD = r"""
import hashlib, json, pickle, sys, time
from ketl.stages.boilerplate import classifier as c

calls = pickle.loads(open(sys.argv[1], "rb").read())
clock = time.process_time
ds = cs = 0.0
h = hashlib.sha256()
for own, args in calls:  # one warm-up pass (the stage's lazy lists and caches), then the measured one
    c.document_stopwords(own)
    c.classify_stripped(*args)
for own, args in calls:
    t = clock()
    stop = c.document_stopwords(own)
    t1 = clock()
    out = c.classify_stripped(*args)
    t2 = clock()
    ds += t1 - t
    cs += t2 - t1
    h.update(repr((sorted(stop), out)).encode())
n = len(calls)
print(json.dumps({"document_stopwords": ds / n * 1e3, "classify_stripped": cs / n * 1e3, "digest": h.hexdigest()}))
"""

# Under valgrind: both runs warm up on calls[n:n + 100], only the second replays calls[:n].
CHILD_INSTRUCTIONS = r"""
import gc, pickle, sys
from ketl.stages.boilerplate import classifier as c

calls = pickle.loads(open(sys.argv[1], "rb").read())
gc.freeze()  # the recorded calls are no garbage: collections need not walk them (a stage holds far fewer)
n, mode = int(sys.argv[2]), sys.argv[3]  # "0": warm-up only, "ds": document_stopwords alone, "1": both
for own, args in calls[n:n + 100]:
    c.document_stopwords(own)
    c.classify_stripped(*args)
if mode != "0":
    for own, args in calls[:n]:
        c.document_stopwords(own)
        if mode == "1":
            c.classify_stripped(*args)
"""


def record(path: Path, n: int) -> None:
    """Run the stage once, keeping the arguments of the two calls."""
    sys.path.insert(0, str(HERE))
    from profile_stages import documents

    from ketl.stages.boilerplate import stage

    docs, _, _, run, _ = documents(n, "boilerplate")
    calls: list = []
    pending: list = []
    ds, cs = stage.document_stopwords, stage.classify_stripped

    def rec_ds(lines, *a, **k):
        pending.append(list(lines))
        return ds(lines, *a, **k)

    def rec_cs(lines, stop, pen, cfg, comments, title_at):
        calls.append((pending.pop(), (list(lines), stop, list(pen), cfg, list(comments), title_at)))
        return cs(lines, stop, pen, cfg, comments, title_at)

    stage.document_stopwords, stage.classify_stripped = rec_ds, rec_cs
    run("boilerplate", docs)
    run("boilerplate", run("repair", _extra_docs()))
    path.write_bytes(pickle.dumps(calls))
    print(f"recorded {len(calls)} articles' calls in {path}", file=sys.stderr)


def _extra_docs():
    """The seeds and the AEB pages."""
    from bench_vs_by_hand import SHARED

    from ketl.document import Document

    texts = {f.name: f.read_text(encoding="utf-8") for f in sorted((SHARED / "seeds").glob("*.txt"))}
    pages = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))["output"]
    texts.update((k, v["articleBody"]) for k, v in sorted(pages.items()))
    return [Document.from_source(doc_id=k, source_path=k, source_sha256="", source_encoding="utf-8", source=v)
            for k, v in texts.items()]


def child(src: str, cache: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-c", CHILD, str(cache)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def instructions(src: str, cache: Path, n: int) -> tuple[float, float]:
    """Instructions per article of document_stopwords, and of both calls, counted by valgrind
    (see bench_stage_instructions.py)."""
    sys.path.insert(0, str(HERE))
    from bench_stage_instructions import count_instructions

    off, ds, both = (count_instructions(src, CHILD_INSTRUCTIONS, [str(cache), str(n), mode], "classifier")
                     for mode in ("0", "ds", "1"))
    return (ds - off) / n, (both - off) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=None, help="src folder of the version to compare with")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--instructions", type=int, default=0, metavar="K",
                    help="count valgrind instructions over the first K recorded articles instead of timing")
    ap.add_argument("--cache", type=Path, default=None, help="recorded calls (default: /tmp/ketl-classifier-calls-N.pkl)")
    args = ap.parse_args()
    cache = args.cache or Path(f"/tmp/ketl-classifier-calls-{args.n}.pkl")
    if not cache.exists():
        record(cache, args.n)
    this = str(HERE.parent / "src")
    versions = {"this": this} | ({"base": args.base} if args.base else {})
    if args.instructions:
        per = {name: instructions(src, cache, args.instructions) for name, src in versions.items()}
        print(f"instructions per article, millions (valgrind, first {args.instructions} recorded articles)")
        for name, (ds, both) in per.items():
            print(f"  {name:<5} document_stopwords {ds / 1e6:.3f}  classify_stripped {(both - ds) / 1e6:.3f}  "
                  f"both {both / 1e6:.3f}")
        return
    runs: dict[str, list[dict]] = {k: [] for k in versions}
    for r in range(args.rounds):
        for name, src in (versions.items() if r % 2 == 0 else reversed(versions.items())):
            runs[name].append(child(src, cache))
    load = os.getloadavg()
    print(f"{len(pickle.loads(cache.read_bytes()))} articles, {args.rounds} rounds, load {load[0]:.1f} {load[1]:.1f}")
    for step in ("document_stopwords", "classify_stripped"):
        for name, rs in runs.items():
            xs = [x[step] for x in rs]
            print(f"  {step:<20} {name:<5} best {min(xs):.3f}  median {statistics.median(xs):.3f} ms/article")
    for name, rs in runs.items():
        xs = [x["document_stopwords"] + x["classify_stripped"] for x in rs]
        print(f"  {'both':<20} {name:<5} best {min(xs):.3f}  median {statistics.median(xs):.3f} ms/article")
    digests = {name: {x["digest"] for x in rs} for name, rs in runs.items()}
    if args.base:
        same = digests["this"] == digests["base"]
        print("  outputs: " + ("identical" if same else "DIFFER"))


if __name__ == "__main__":
    main()
