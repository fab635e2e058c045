"""Hit rates of the classifier's line memos (issue 15): the verdicts of
``_initial`` (``_VERDICTS``), the glued-headline test (``_GLUED``), the
stop-word groups of the guess's sample (``_GROUPS``) and the per-line caches
``is_prose``, ``list_lead``, ``_menu_item`` and ``headline_like`` (where
cached), on the bench_vs_by_hand corpus (which repeats
real bodies and site furniture far more than a real corpus would) and on the
AEB pages and seeds alone (no repeats). Replays the calls bench_mark_classified.py
recorded (run it first), one fresh process per set, caches empty as in a worker.

    python benchmarks/bench_classifier_memos.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, pickle, sys, types
from ketl.stages.boilerplate import classifier as c, prose, stage as s
from ketl.stages.boilerplate.rules import load_rules

calls = pickle.loads(open(sys.argv[1], "rb").read())
if sys.argv[2] == "aeb":
    calls = [x for x in calls if x[0] == "extra"]
rules = load_rules(())
settings = s.BoilerplateSettings()
cfg = settings.classifier_settings()
s.warm_up(rules, settings)
counts = {}


class Counting(dict):
    # A memo that counts its look-ups by name (hits: found).
    name = ""

    def get(self, key, default=None):
        v = dict.get(self, key, default)
        n = counts.setdefault(self.name, [0, 0])
        n[v is None] += 1
        return v


def counting(name):
    d = Counting()
    d.name = name
    return d


real_memo = c._memo


def memo(memos, key):
    got = real_memo(memos, key)
    if not isinstance(got, Counting):
        got = memos[key] = counting("verdicts" if memos is c._VERDICTS else "glued")
    return got


c._memo = memo
c._VERDICTS.clear()
c._GLUED.clear()
c._GROUPS = counting("groups")
caches = [f for f in (getattr(prose, "is_prose", None), getattr(prose, "list_lead", None),
                      getattr(prose, "_menu_item", None), getattr(c, "headline_like", None)) if hasattr(f, "cache_clear")]
for f in caches:
    f.cache_clear()
for a in range(0, len(calls), s._CHUNK):
    jobs = []
    for _, state, main, spared in calls[a:a + s._CHUNK]:
        lines = s._Lines.__new__(s._Lines)
        for k, v in state.items():
            setattr(lines, k, list(v) if isinstance(v, list) else v)
        jobs.append(types.SimpleNamespace(lines=lines, main=main, spared=list(spared)))
    s._mark_classified(jobs, rules, settings, cfg)
for f in caches:
    info = f.cache_info()
    counts[f.__name__] = [info.hits, info.misses]
print(json.dumps({"n": len(calls), "counts": counts}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--cache", type=Path, default=None, help="bench_mark_classified.py's recorded calls")
    args = ap.parse_args()
    cache = args.cache or Path(f"/tmp/ketl-mark-classified-jobs-{args.n}.pkl")
    if not cache.exists():
        sys.exit(f"{cache} missing: run benchmarks/bench_mark_classified.py --n {args.n} first")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    print("classifier line memos: hits / look-ups")
    for which, label in (("all", "benchmark corpus + AEB"), ("aeb", "AEB pages and seeds alone")):
        out = subprocess.run([sys.executable, "-c", CHILD, str(cache), which], env=env, capture_output=True,
                             text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        parts = [f"{name} {h / max(1, h + m):.1%} of {h + m}" for name, (h, m) in sorted(res["counts"].items())]
        print(f"  {label:<28} ({res['n']} pages): " + ", ".join(parts))


if __name__ == "__main__":
    main()
