"""CPU per article of the dedup work done per document: sketches, band keys, pair checks, two versions.

What a run counts as "sketch" (``run.batch.finish_batch``: the quotes' and the
articles' ``sketch_table``) and the per-item parts of the band step that live in
``ketl.dedup`` (``band_keys`` of every band, ``SketchStore.jaccard`` of candidate
pairs), measured on the texts the stages give for the seeds, the AEB pages and
``--n`` articles of the bench_vs_by_hand corpus. The texts are made once, by this
checkout, and pickled; each round then starts one fresh process per version
(``--base SRC``: e.g. an unpacked ``git archive`` of the commit to compare with),
taking turns so a busy spell of the shared machine hits both. Prints the best and
median of the rounds in ms per article, and base/this.

"sketch" is what a run's ``finish_batch`` calls (``run.batch._sketches`` of each
batch's quotes and articles, ``--batch`` articles a batch); "sketch (all)" is
``sketch_table`` of every text in one call, whatever the run layer does around it.
The corpus repeats bodies and quotes far more than real news does: ``--distinct``
keeps only the first copy of each article and quote text (input without repeats).

    python benchmarks/bench_sketch_ab.py --base /tmp/base/src --rounds 5 [--n 2000] [--distinct]
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

CHILD = r"""
import json, pickle, sys, time
import numpy as np
from ketl.dedup.index import ARTICLE_SETTINGS, QUOTE_SETTINGS, sketch_table
from ketl.dedup.lsh import band_keys
from ketl.dedup.sketches import SketchStore
from ketl.run.batch import _sketches

articles, per_article, size = pickle.loads(open(sys.argv[1], "rb").read())
quotes = [q for qs in per_article for q in qs]
n = len(articles)
clock = time.process_time
sketch_table(articles[:50], ARTICLE_SETTINGS), sketch_table(quotes[:50], QUOTE_SETTINGS)  # warm: tables, powers
out = {}
t = clock()
for i in range(0, n, size):  # as finish_batch: the batch's quotes, then its articles
    _sketches([q for qs in per_article[i:i + size] for q in qs], QUOTE_SETTINGS, True)
    _sketches(articles[i:i + size], ARTICLE_SETTINGS, True)
out["sketch"] = clock() - t
t = clock()
a = sketch_table(articles, ARTICLE_SETTINGS)
q = sketch_table(quotes, QUOTE_SETTINGS)
out["sketch (all)"] = clock() - t
sigs = {}
for name, table, s in (("articles", a, ARTICLE_SETTINGS), ("quotes", q, QUOTE_SETTINGS)):
    col = table.column("signature").combine_chunks()
    sigs[name] = (col.values.to_numpy().reshape(len(col), s.num_perm), s)
t = clock()
for m, s in sigs.values():
    band_keys(m, s.bands, s.rows)
out["band keys"] = clock() - t
# Candidate pairs as a band step verifies them: each item with a few earlier ones.
m, s = sigs["quotes"]
rng = np.random.default_rng(0)
later = rng.integers(1, len(m), size=20 * n)
pairs = np.stack([rng.integers(0, later), later], axis=1)
store = SketchStore(s.num_perm)
store.append(m)
t = clock()
store.jaccard(pairs)
out["jaccard"] = clock() - t
print(json.dumps({k: v / n * 1e3 for k, v in out.items()}))
"""


def texts(n: int, path: Path, batch: int, distinct: bool) -> None:
    """The articles' texts and each one's quotes after the stages (this checkout), and the
    batch size, pickled to ``path``; only first copies of each text when ``distinct``."""
    sys.path.insert(0, str(HERE))
    from profile_stages import documents

    docs, *_ = documents(n, "end")
    articles, quotes, seen = [], [], set()
    for d in docs:
        if distinct and d.text in seen:
            continue
        seen.add(d.text)
        articles.append(d.text)
        quotes.append([q.text for q in d.quotes if not (distinct and q.text in seen) and not seen.add(q.text)])
    print(f"{len(articles)} articles, {sum(map(len, quotes))} quotes"
          f"{' (first copies only)' if distinct else ''}")
    pickle.dump((articles, quotes, batch), path.open("wb"))


def child(src: str, data: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-c", CHILD, str(data)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="src folder of the version to compare with")
    ap.add_argument("--this", default=str(HERE.parent / "src"), help="src folder to measure")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000, help="articles of the benchmark corpus")
    ap.add_argument("--batch", type=int, default=1000, help="articles per batch (the run's batch_size)")
    ap.add_argument("--distinct", action="store_true", help="first copies of each text only (no repeats)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "texts.pkl"
        texts(args.n, data, args.batch, args.distinct)
        runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
        for _ in range(args.rounds):
            for side, src in (("base", args.base), ("this", args.this)):
                runs[side].append(child(src, data))
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    print(f"ms CPU per article, {args.n} articles, {args.rounds} rounds (load average {load}): best / median")
    for part in runs["this"][0]:
        b = [r[part] for r in runs["base"]]
        t = [r[part] for r in runs["this"]]
        print(f"  {part:<12} base {min(b):.4f} / {statistics.median(b):.4f}   this {min(t):.4f} / "
              f"{statistics.median(t):.4f}   this/base {min(t) / min(b):.2f} (best) {statistics.median(t) / statistics.median(b):.2f} (median)")


if __name__ == "__main__":
    main()
