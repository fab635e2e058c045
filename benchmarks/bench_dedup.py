"""Near-duplicate throughput: ketl.dedup vs datasketch's plain path and rensa, same run.

Prints docs/s (wall clock and CPU time: the machine is shared, CPU time is the
steadier figure) and peak memory (tracemalloc) on synthetic 300-word documents
and on quote-length texts built from the seed articles, 128 permutations, one
core. Also times adding a small batch to a large stored index, to show that a
run does not re-sort the stored state, and a run split into the pipeline's
tasks (register, band shards, cluster) with each task's peak memory.
    python benchmarks/bench_dedup.py [--docs N] [--peer-docs N]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa

from ketl.dedup.index import (ARTICLE_SETTINGS, QUOTE_SETTINGS, ArticleIndex, NearDupIndex, QuoteIndex, sketch,
                              sketch_table)
from ketl.dedup.lsh import BandTable, band_keys, cluster, estimated_jaccard

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
    """Time a warm run (wall and CPU), then rerun under tracemalloc (slower) for the peak."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    dt, dc = time.perf_counter() - t, time.process_time() - c
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, dt, dc, peak


def line(label: str, n: int, dt: float, dc: float, peak: float, extra: str = "") -> None:
    print(f"  {label:<26}{n / dt:10.0f} docs/s wall {n / dc:10.0f} docs/s CPU  peak {peak:7.1f} MiB{extra}")


def ketl_full(docs, settings):
    index = NearDupIndex(settings)
    return index.add(pa.table({"id": [str(i) for i in range(len(docs))], "text": docs}))


def ketl_from_sketches(docs, settings):
    """index.add over precomputed sketch columns: what the flow runs once per run."""
    table = sketch_table(docs, settings).add_column(0, "id", pa.array([str(i) for i in range(len(docs))]))
    return lambda: NearDupIndex(settings).add(table)


def ketl_lsh_only(docs, settings):
    """Band group-by (as the index runs it: band by band, merged into a BandTable),
    verification and connected components alone, on numpy arrays."""
    sigs, _, _ = sketch(docs, settings)

    def run():
        pairs = BandTable(settings.bands).add(band_keys(sigs, settings.bands, settings.rows), 0)
        w = estimated_jaccard(sigs, pairs)
        ok = w >= settings.threshold
        return cluster(len(docs), 0, np.empty(0, np.int64), pairs[ok], w[ok])
    return run


def incremental(docs, settings, batch: int):
    """Adding ``batch`` texts to an index already holding the others (after a load)."""
    with tempfile.TemporaryDirectory() as tmp:
        index = NearDupIndex(settings)
        old = sketch_table(docs[:-batch], settings).add_column(
            0, "id", pa.array([str(i) for i in range(len(docs) - batch)]))
        index.add(old)
        index.save(Path(tmp))
        new = sketch_table(docs[-batch:], settings).add_column(
            0, "id", pa.array([f"n{i}" for i in range(batch)]))
        t = time.perf_counter()
        index = NearDupIndex.load(Path(tmp), settings)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        index.add(new)
        t_add = time.perf_counter() - t
        t = time.perf_counter()
        index.save(Path(tmp))
        t_save = time.perf_counter() - t
    return t_load, t_add, t_save


def _peak(fn):
    """(result, seconds, tracemalloc peak MiB): memory-mapped signatures are not heap, by design."""
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, dt, peak


def distributed_run(docs, cls, batch: int, shards: int = 8):
    """A run of ``batch`` new texts against ``len(docs) - batch`` stored, as the
    pipeline's tasks do it (register, band shards, link), beside the in-process path."""
    import pyarrow.parquet as pq

    from ketl.dedup import distributed

    settings = cls.default_settings
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def part(texts, first, name):
            t = sketch_table(texts, settings).add_column(0, cls.id_column,
                                                         pa.array([f"{name}{first + i}" for i in range(len(texts))]))
            path = tmp / f"{name}-{first}.parquet"
            pq.write_table(t, path)
            return path

        step = 20000
        old_parts = [part(docs[a:min(a + step, len(docs) - batch)], a, "o")
                     for a in range(0, len(docs) - batch, step)]
        plan = distributed.register(cls, "x", None, tmp / "s1", tmp / "w1", old_parts)
        distributed.link(cls, plan, [distributed.band_shard(cls, plan, distributed.shard_bands(
            settings.bands, k, shards)) for k in range(shards)])
        new_parts = [part(docs[len(docs) - batch:], 0, "n")]
        plan, t_reg, m_reg = _peak(lambda: distributed.register(cls, "x", tmp / "s1", tmp / "s2", tmp / "w2",
                                                               new_parts))
        shard_stats = [_peak(lambda k=k: distributed.band_shard(
            cls, plan, distributed.shard_bands(settings.bands, k, shards))) for k in range(shards)]
        _, t_link, m_link = _peak(lambda: distributed.link(cls, plan, [r[0] for r in shard_stats]))

        def in_process():
            index = cls.load(tmp / "s1")
            index.add(pq.read_table(new_parts[0]))
            index.save(tmp / "s3")
        _, t_mem, m_mem = _peak(in_process)
    n_old = len(docs) - batch
    print(f"  run of {batch} new into {n_old} stored, as tasks: register {t_reg * 1e3:.0f} ms / {m_reg:.1f} MiB; "
          f"{shards} band tasks {sum(r[1] for r in shard_stats) * 1e3:.0f} ms in all, largest "
          f"{max(r[2] for r in shard_stats):.1f} MiB; cluster {t_link * 1e3:.0f} ms / {m_link:.1f} MiB")
    print(f"  {'':<{len(str(batch)) + 28}}in one process: {t_mem * 1e3:.0f} ms / {m_mem:.1f} MiB "
          "(peaks: tracemalloc heap; signatures are memory-mapped)")


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
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--peer-docs", type=int, default=1000)
    args = ap.parse_args()
    cases = [("300-word docs, word 5-grams", corpus(args.docs, 300), ARTICLE_SETTINGS),
             ("quotes (~25 words), char 5-grams", corpus(args.docs * 5, 25), QUOTE_SETTINGS)]
    for label, docs, settings in cases:
        print(f"== {label}: {len(docs)} texts, {settings.num_perm} perms, "
              f"{settings.bands}x{settings.rows} bands")
        ketl_full(docs[:200], settings)  # warm the lookup tables once
        n = len(docs)
        out, dt, dc, peak = measure(lambda: ketl_full(docs, settings))
        n_multi = n - len(set(out["cluster_id"].to_pylist()))
        line("ketl text->cluster id", n, dt, dc, peak, f"  ({n_multi} joined a cluster)")
        _, dt, dc, peak = measure(lambda: sketch(docs, settings))
        line("ketl text->signature", n, dt, dc, peak)
        _, dt, dc, peak = measure(ketl_from_sketches(docs, settings))
        line("ketl index.add (sketched)", n, dt, dc, peak)
        _, dt, dc, peak = measure(ketl_lsh_only(docs, settings))
        line("ketl LSH+clustering", n, dt, dc, peak)
        few = docs[: args.peer_docs]
        _, dt, dc, peak = measure(lambda: datasketch_plain(few, settings))
        line("datasketch plain path", len(few), dt, dc, peak)
        try:
            import rensa  # noqa: F401
        except ImportError:
            print("  rensa                     not installed")
        else:
            _, dt, dc, peak = measure(lambda: rensa_run(few * 5, settings))
            line("rensa (Python shingles)", len(few) * 5, dt, dc, peak)
        for size in (n // 5, n):
            t_load, t_add, t_save = incremental(docs[:size], settings, 500)
            print(f"  incremental: 500 new into {size - 500:>6} stored: load {t_load * 1e3:6.0f} ms, "
                  f"add {t_add * 1e3:5.0f} ms, save {t_save * 1e3:6.0f} ms")
        cls = ArticleIndex if settings is ARTICLE_SETTINGS else QuoteIndex
        distributed_run(docs, cls, n // 5)


if __name__ == "__main__":
    main()
