"""CPU of the boilerplate stage's classifier step (``stage._mark_classified``
and all it calls: the stop-word guess, the teaser and copy passes, the line
classifier), two versions side by side, output compared.

The stage runs once over ``--n`` articles of the bench_vs_by_hand corpus, the
seeds and the AEB pages, recording the state each call of ``_mark_classified``
starts from (the page's lines and the verdicts of the steps before it; cached
in ``--cache``). Each round replays the calls in one fresh process per version
(this checkout, ``--base SRC``), taking turns, timing each call with
time.process_time after the stage's warm-up (caches start empty, as in a
worker); the verdicts are hashed, so the two
versions' outputs are compared on every call. ``--aeb-only`` replays the AEB
pages and seeds alone (no repeated bodies: what a line-level cache buys on
input that does not repeat itself; bench_classifier_memos.py gives every memo's hit rate).

    python benchmarks/bench_mark_classified.py --base /tmp/base/src --n 2000 --rounds 5
    python benchmarks/bench_mark_classified.py --base /tmp/base/src --instructions 300
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
import hashlib, json, pickle, sys, time, types
from ketl.stages.boilerplate import stage as s
from ketl.stages.boilerplate.rules import load_rules

calls = pickle.loads(open(sys.argv[1], "rb").read())
if sys.argv[2] == "aeb":
    calls = [c for c in calls if c[0] == "extra"]
rules = load_rules(())
settings = s.BoilerplateSettings()
cfg = settings.classifier_settings()
clock = time.process_time


def fresh(state, main, spared):
    lines = s._Lines.__new__(s._Lines)
    for k, v in state.items():
        setattr(lines, k, list(v) if isinstance(v, list) else v)
    # (no page text recorded: low_text() None, so the teaser step looks at every line)
    return types.SimpleNamespace(lines=lines, main=main, spared=list(spared),
                                 page=types.SimpleNamespace(low_text=lambda: None))


# Warm-up on the stage's own warm-up page (lazy lists), not on the calls: each
# line is new to the caches the first time its page comes, as in a run.
s.warm_up(rules, settings)
spent = 0.0
h = hashlib.sha256()
# Chunks of the stage's size (stage._CHUNK), as it calls the step.
for a in range(0, len(calls), s._CHUNK):
    jobs = [fresh(*c[1:]) for c in calls[a:a + s._CHUNK]]
    t = clock()
    s._mark_classified(jobs, rules, settings, cfg)
    spent += clock() - t
    for job in jobs:
        h.update(repr((job.lines.reason, job.lines.penalty)).encode())
from ketl.stages.boilerplate import classifier as c
hits, misses = getattr(c, "_VERDICT_STATS", (0, 0))
print(json.dumps({"ms": spent / len(calls) * 1e3, "n": len(calls), "digest": h.hexdigest(),
                  "verdict_hits": hits / max(1, hits + misses)}))
"""


# Under valgrind: both runs load the calls and warm up; only the second replays calls[:k].
CHILD_INSTRUCTIONS = r"""
import gc, pickle, sys, types
from ketl.stages.boilerplate import stage as s
from ketl.stages.boilerplate.rules import load_rules

calls = pickle.loads(open(sys.argv[1], "rb").read())
k, on = int(sys.argv[2]), sys.argv[3] == "1"
calls = calls[:k] if sys.argv[4] == "all" else [c for c in calls if c[0] == "extra"][:k]
gc.freeze()
rules = load_rules(())
settings = s.BoilerplateSettings()
cfg = settings.classifier_settings()
s.warm_up(rules, settings)
jobs = []
for _, state, main, spared in calls:
    lines = s._Lines.__new__(s._Lines)
    for key, v in state.items():
        setattr(lines, key, list(v) if isinstance(v, list) else v)
    jobs.append(types.SimpleNamespace(lines=lines, main=main, spared=list(spared),
                                      page=types.SimpleNamespace(low_text=lambda: None)))
if on:
    for a in range(0, len(jobs), s._CHUNK):
        s._mark_classified(jobs[a:a + s._CHUNK], rules, settings, cfg)
"""


def instructions(src: str, cache: Path, k: int, which: str) -> float:
    """Instructions per call of ``_mark_classified`` over the first ``k`` calls, counted by valgrind."""
    sys.path.insert(0, str(HERE))
    from bench_stage_instructions import count_instructions

    part = cache.with_name(f"{cache.stem}-{which}-{k}.pkl")  # (valgrind reads a small file faster)
    if not part.exists():
        calls = pickle.loads(cache.read_bytes())
        part.write_bytes(pickle.dumps(calls[:k] if which == "all" else [c for c in calls if c[0] == "extra"][:k]))
    off, on = (count_instructions(src, CHILD_INSTRUCTIONS, [str(part), str(k), mode, which], "mark_classified")
               for mode in ("0", "1"))
    return (on - off) / k


def record(path: Path, n: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_classifier_cpu import _extra_docs
    from profile_stages import documents

    from ketl.stages.boilerplate import stage

    docs, _, _, run, _ = documents(n, "boilerplate")
    calls: list = []
    tag = ["corpus"]
    real = stage._mark_classified

    def rec(jobs, rules, settings, cfg):
        for job in jobs:
            lines = job.lines
            state = {k: (list(getattr(lines, k)) if isinstance(getattr(lines, k), list) else getattr(lines, k))
                     for k in stage._Lines.__slots__}
            calls.append((tag[0], state, job.main, list(job.spared)))
        return real(jobs, rules, settings, cfg)

    stage._mark_classified = rec
    run("boilerplate", docs)
    tag[0] = "extra"
    run("boilerplate", run("repair", _extra_docs()))
    path.write_bytes(pickle.dumps(calls))
    print(f"recorded {len(calls)} calls in {path}", file=sys.stderr)


def child(src: str, cache: Path, which: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-c", CHILD, str(cache), which], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=None, help="src folder of the version to compare with")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--aeb-only", action="store_true", help="replay the AEB pages and seeds alone")
    ap.add_argument("--cache", type=Path, default=None, help="recorded calls (default: /tmp/ketl-mark-classified-jobs-N.pkl)")
    ap.add_argument("--instructions", type=int, default=0, metavar="K",
                    help="count instructions (valgrind) over the first K calls instead of timing")
    args = ap.parse_args()
    cache = args.cache or Path(f"/tmp/ketl-mark-classified-jobs-{args.n}.pkl")
    if not cache.exists():
        record(cache, args.n)
    this = str(HERE.parent / "src")
    sides = [("this", this)] + ([("base", args.base)] if args.base else [])
    which = "aeb" if args.aeb_only else "all"
    if args.instructions:
        counts = {name: instructions(src, cache, args.instructions, which) for name, src in sides}
        print(f"_mark_classified, instructions per call (first {args.instructions} calls, {which})")
        for name, _ in sides:
            print(f"  {name:<5} {counts[name] / 1e6:.3f} M")
        if args.base:
            a, b = counts["this"], counts["base"]
            print(f"  this/base {a / b:.3f} ({(1 - a / b) * 100:+.1f} % fewer)")
        return
    got: dict[str, list[float]] = {name: [] for name, _ in sides}
    hit_rate: dict[str, float] = {}
    digests: dict[str, set[str]] = {name: set() for name, _ in sides}
    for r in range(args.rounds):
        for name, src in (sides if r % 2 == 0 else sides[::-1]):
            res = child(src, cache, which)
            got[name].append(res["ms"])
            hit_rate[name] = res.get("verdict_hits", 0.0)
            digests[name].add(res["digest"])
    print(f"_mark_classified, ms CPU/call ({res['n']} calls, {which}; load {os.getloadavg()[0]:.2f})")
    for name, _ in sides:
        v = got[name]
        print(f"  {name:<5} median {statistics.median(v):.4f}  min {min(v):.4f}  max {max(v):.4f}"
              f"  (line verdicts remembered: {hit_rate.get(name, 0):.1%} of lookups)")
    if args.base:
        a, b = statistics.median(got["this"]), statistics.median(got["base"])
        print(f"  this/base {a / b:.3f} ({(1 - a / b) * 100:+.1f} % cheaper)")
        same = digests["this"] == digests["base"] and len(digests["this"]) == 1
        print(f"  output {'identical' if same else 'DIFFERS'}")


if __name__ == "__main__":
    main()
