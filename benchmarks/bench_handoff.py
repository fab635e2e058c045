"""Bytes and CPU of the hand-off between the batch steps: pickled Documents against ketl.run.handoff's records.

Reads and repairs N articles of bench_vs_by_hand's corpus (the prepare step's
stages, in this process), then pickles them both ways as prepare_batch does and
loads them back as finish_batch does, alternating, best of ``--repeat``:

    python benchmarks/bench_handoff.py [--n 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import cached_corpus  # noqa: E402 - a sibling script


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan
    from ketl.run.batch import resources
    from ketl.run.handoff import pack, unpack
    from ketl.settings import Settings
    from ketl.stages import stages_of_step

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ketl-bench" / "vs-by-hand"
    cache.mkdir(parents=True, exist_ok=True)
    raw, _ = cached_corpus(cache, 2000 if args.n <= 2000 else args.n)
    settings = Settings()
    res = resources(settings, settings.config_hash())
    read = read_units(raw, scan(raw, False)[:args.n], settings.max_file_bytes)
    docs = read.docs
    for stage in stages_of_step("prepare"):
        docs = stage.run(docs, res)
    n = len(docs)
    ways = {"Documents": (lambda: (docs, read.rejects), lambda obj: obj[0]),
            "handoff records": (lambda: (pack(docs), read.rejects), lambda obj: unpack(obj[0]))}
    best = {k: [float("inf"), float("inf")] for k in ways}
    size = {}
    for _ in range(args.repeat):
        for name, (make, back) in ways.items():
            t = time.process_time()
            blob = pickle.dumps(make(), protocol=pickle.HIGHEST_PROTOCOL)
            dump = time.process_time() - t
            t = time.process_time()
            back(pickle.loads(blob))
            load = time.process_time() - t
            size[name] = len(blob)
            best[name] = [min(best[name][0], dump), min(best[name][1], load)]
    print(f"{n} repaired articles of the vs-by-hand corpus; CPU best of {args.repeat}")
    print(f"{'':<18}{'bytes/article':>14}{'dump ms/article':>17}{'load ms/article':>17}")
    for name in ways:
        print(f"{name:<18}{size[name] / n:14.0f}{best[name][0] / n * 1e3:17.3f}{best[name][1] / n * 1e3:17.3f}")


if __name__ == "__main__":
    main()
