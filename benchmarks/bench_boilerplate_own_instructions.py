"""Instructions per article of the boilerplate stage outside the line classifier and
apply_changes (the steps bench_boilerplate_own_cpu.py times), counted by valgrind:
figures a busy machine does not move.

    python benchmarks/bench_boilerplate_own_instructions.py --base /tmp/base/src [--this SRC] [--n 300] [--warm]

bench_stage_instructions.py counts the whole stage (``stage``). The classifier's
functions and apply_changes (``others``: classify_stripped, document_stopwords,
teaser_lines, headline_lists, copied_lines, apply_changes, as stage.py calls
them) are counted apart: one plain run of ``--others-src`` (default: this
checkout) records every call's arguments (a document as it was before
apply_changes changed it), then valgrind counts a child that replays them,
against one that only loads them. ``own`` is ``stage - others``. The same
recorded calls serve both versions: when their output is the same, so are the
calls (dump_stages.py checks that).

``--warm``: the stage (and the replay) measured on the documents it has just
cleaned, every memo warm, as bench_boilerplate_own_cpu.py times it; without
it, on ``--n`` documents after 100 others (bench_stage_instructions.py's way:
memos as cold as the corpus' repeats leave them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_stage_instructions import CHILD, count_instructions, instructions  # noqa: E402

OTHERS = ("classify_stripped", "document_stopwords", "teaser_lines", "headline_lists", "copied_lines",
          "apply_changes")

# The children: bench_stage_instructions' setup (resources, the corpus' documents:
# argv corpus, n, stage, on, one_at_a_time), then (--warm) the stage over the
# same documents twice, the second time only when measured (argv[4] "1"), as
# bench_boilerplate_own_cpu.py times it (every memo warm), or the recording of
# the others' calls (argv[6]: where to write them; --warm: of the second run).
_SETUP = CHILD[:CHILD.index("def run(")] + r"""
import pickle
from ketl.stages.boilerplate import stage as bp
from ketl.stages.boilerplate.site_stats import site_and_line_keys

def prepared(docs):
    docs = list(registry["repair"].run(docs, res))
    stats = p.SiteLineStats(res.boilerplate.repetition_settings())
    for d in docs:
        stats.add(*site_and_line_keys(d))
    return pickle.dumps(docs), dataclasses.replace(res, site_stats=stats)
"""

WARM = _SETUP + r"""
frozen, r = prepared(docs_of(paths[:n]))
list(registry["boilerplate"].run(pickle.loads(frozen), r))
batch = pickle.loads(frozen)
if on:
    list(registry["boilerplate"].run(batch, r))
"""

RECORD = _SETUP + r"""
out, warm_same = sys.argv[6], sys.argv[7] == "1"
calls = []
for name in %(others)r:
    f = getattr(bp, name)
    def recorded(*a, _f=f, _name=name, **k):
        calls.append((_name, pickle.dumps((a, k))))
        return _f(*a, **k)
    setattr(bp, name, recorded)

def through(docs, again=False):
    frozen, r = prepared(docs)
    list(registry["boilerplate"].run(pickle.loads(frozen), r))
    if again:
        warm = calls[:]
        calls.clear()
        list(registry["boilerplate"].run(pickle.loads(frozen), r))
        return warm

if warm_same:
    warm = through(docs_of(paths[:n]), True)
else:
    through(docs_of(paths[n:n + 100]))
    warm = calls[:]
    calls.clear()
    through(docs_of(paths[:n]))
with open(out, "wb") as fh:
    pickle.dump((warm, calls), fh)
"""

REPLAY = r"""
import pickle, sys
from ketl.stages.boilerplate import stage as bp

recorded, on = sys.argv[1], sys.argv[2] == "1"
with open(recorded, "rb") as fh:
    warm, calls = pickle.load(fh)

def loaded(batch):
    return [(getattr(bp, name), *pickle.loads(blob)) for name, blob in batch]

for f, a, k in loaded(warm):  # lazy tables and caches loaded in both runs
    f(*a, **k)
ready = loaded(calls)
if on:
    for f, a, k in ready:
        f(*a, **k)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", help="src folder of the version to compare with")
    ap.add_argument("--this", help="src folder to measure instead of this checkout's")
    ap.add_argument("--others-src", help="src folder whose run records the others' calls (default: --this)")
    ap.add_argument("--n", type=int, default=300, help="articles of the benchmark corpus")
    ap.add_argument("--warm", action="store_true", help="the stage measured on documents it has just cleaned "
                    "(every memo warm, as bench_boilerplate_own_cpu.py), not on 100 others")
    args = ap.parse_args()
    versions = {"this": str(Path(args.this).resolve()) if args.this else str(HERE.parent / "src")}
    if args.base:
        versions["base"] = str(Path(args.base).resolve())
    from bench_vs_by_hand import build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(Path(tmp), args.n + 100)
        recorded = str(Path(tmp) / "others.pickle")
        src = str(Path(args.others_src).resolve()) if args.others_src else versions["this"]
        subprocess.run([sys.executable, "-c", RECORD.replace("%(others)r", repr(OTHERS)), tmp, str(args.n),
                        "boilerplate", "1", "0", recorded, "1" if args.warm else "0"],
                       env={**os.environ, "PYTHONPATH": src}, check=True)
        others = (count_instructions(src, REPLAY, [recorded, "1"], "others")
                  - count_instructions(src, REPLAY, [recorded, "0"], "others")) / args.n
        print(f"boilerplate, instructions per article ({args.n} articles of the bench_vs_by_hand corpus, "
              f"valgrind cachegrind; millions; whole input per call; "
              f"{'warm: the same documents again' if args.warm else 'after 100 other documents'})")
        print(f"{'':<8}{'stage':>9}{'others':>9}{'own':>9}")
        own = {}
        for label, path in versions.items():
            if args.warm:
                stage = (count_instructions(path, WARM, [tmp, str(args.n), "boilerplate", "1", "0"], "warm")
                         - count_instructions(path, WARM, [tmp, str(args.n), "boilerplate", "0", "0"], "warm")) / args.n
            else:
                stage = (instructions(path, Path(tmp), args.n, "boilerplate", True)
                         - instructions(path, Path(tmp), args.n, "boilerplate", False)) / args.n
            own[label] = stage - others
            print(f"{label:<8}{stage / 1e6:>9.3f}{others / 1e6:>9.3f}{own[label] / 1e6:>9.3f}", flush=True)
        if args.base:
            print(f"own: this/base {own['this'] / own['base']:.3f}")


if __name__ == "__main__":
    main()
