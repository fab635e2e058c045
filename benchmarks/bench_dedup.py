"""Near-duplicate throughput: ketl.dedup vs datasketch's plain path (and rensa if installed).

Prints docs/s and peak memory (tracemalloc) on synthetic 300-word documents and
on quote-length texts built from the seed articles, 128 permutations, one core.
    python benchmarks/bench_dedup.py [--docs N]
"""

from __future__ import annotations

import argparse
import random
import re
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa

from ketl.dedup.index import ARTICLE_SETTINGS, QUOTE_SETTINGS, NearDupIndex, sketch
from ketl.dedup.lsh import band_keys, cluster, estimated_jaccard, lsh_candidates

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def corpus(n: int, words_per_doc: int, dup_rate: float = 0.2, seed: int = 0) -> list[str]:
    words = re.findall(r"\S+", " ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")))
    rng = random.Random(seed)
    docs: list[str] = []
    for _ in range(n):
        if docs and rng.random() < dup_rate:  # a reprint with one word changed
            w = rng.choice(docs).split()
            w[rng.randrange(len(w))] = rng.choice(words)
            docs.append(" ".join(w))
        else:
            docs.append(" ".join(rng.choice(words) for _ in range(words_per_doc)))
    return docs


def measure(fn):
    """Time a clean run, then rerun under tracemalloc (which slows numpy) for the peak."""
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, dt, peak


def ketl_full(docs, settings):
    index = NearDupIndex(settings)
    return index.add(pa.table({"id": [str(i) for i in range(len(docs))], "text": docs}))


def ketl_lsh_only(docs, settings):
    sigs, gv, go = sketch(docs, settings)

    def run():
        keys = band_keys(sigs, settings.bands, settings.rows)
        pairs = lsh_candidates(keys, 0)
        w = estimated_jaccard(sigs, pairs)
        ok = w >= settings.threshold
        return cluster(len(docs), 0, np.empty(0, np.int64), pairs[ok], w[ok])
    return run


def shingles_py(text, settings):
    t = re.findall(r"\w+", text.lower())
    if settings.unit == "word":
        return [" ".join(t[i:i + settings.n]) for i in range(max(len(t) - settings.n + 1, 1))]
    s = " ".join(t)
    return [s[i:i + settings.n] for i in range(max(len(s) - settings.n + 1, 1))]


def datasketch_plain(docs, settings):
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(num_perm=settings.num_perm, params=(settings.bands, settings.rows))
    for i, d in enumerate(docs):
        m = MinHash(num_perm=settings.num_perm, seed=settings.seed)
        for s in shingles_py(d, settings):
            m.update(s.encode())
        lsh.query(m)
        lsh.insert(str(i), m)


def rensa_run(docs, settings):
    from rensa import RMinHash, RMinHashLSH
    lsh = RMinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm,
                      num_bands=settings.bands)
    for i, d in enumerate(docs):
        m = RMinHash(num_perm=settings.num_perm, seed=settings.seed)
        m.update(shingles_py(d, settings))
        lsh.query(m)
        lsh.insert(i, m)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--peer-docs", type=int, default=1000)
    args = ap.parse_args()
    cases = [("300-word docs, word 5-grams", corpus(args.docs, 300), ARTICLE_SETTINGS),
             ("quotes (~25 words), char 5-grams", corpus(args.docs * 5, 25), QUOTE_SETTINGS)]
    for label, docs, settings in cases:
        print(f"== {label}: {len(docs)} texts, {settings.num_perm} perms, "
              f"{settings.bands}x{settings.rows} bands")
        out, dt, peak = measure(lambda: ketl_full(docs, settings))
        n_multi = len(docs) - len(set(out["cluster_id"].to_pylist()))
        print(f"  ketl text->cluster id   {len(docs) / dt:10.0f} docs/s  peak {peak:7.1f} MiB"
              f"  ({n_multi} joined a cluster)")
        _, dt, peak = measure(lambda: sketch(docs, settings))
        print(f"  ketl text->signature    {len(docs) / dt:10.0f} docs/s  peak {peak:7.1f} MiB")
        run = ketl_lsh_only(docs, settings)
        _, dt, peak = measure(run)
        print(f"  ketl LSH+clustering     {len(docs) / dt:10.0f} docs/s  peak {peak:7.1f} MiB")
        few = docs[: args.peer_docs]
        _, dt, peak = measure(lambda: datasketch_plain(few, settings))
        print(f"  datasketch plain path   {len(few) / dt:10.0f} docs/s  peak {peak:7.1f} MiB")
        try:
            import rensa  # noqa: F401
        except ImportError:
            print("  rensa                   not installed")
        else:
            _, dt, peak = measure(lambda: rensa_run(few * 5, settings))
            print(f"  rensa (Python shingles) {len(few) * 5 / dt:10.0f} docs/s  peak {peak:7.1f} MiB")


if __name__ == "__main__":
    main()
