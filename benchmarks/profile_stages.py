"""cProfile of one text stage over the bench_vs_by_hand corpus, in process (no Prefect).

The documents go through the stages before the one profiled (as a batch would),
then the stage runs once unprofiled (a worker's warm-up: lazy tables, caches)
and once under cProfile. ``--stage sketches``/``bands`` profile dedup's
shingling + MinHash and band keys of the curated texts.

    python benchmarks/profile_stages.py --stage repair --n 2000 [--top 30] [--cold]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ORDER = ("repair", "boilerplate", "entities", "quotes")


def documents(n: int, upto: str):
    from bench_vs_by_hand import cached_corpus
    from ketl.document import Document
    from ketl.run import batch as p
    from ketl.settings import Settings

    raw, _ = cached_corpus(Path.home() / ".cache" / "ketl-bench" / "vs-by-hand", n)
    paths = sorted(raw.rglob("*.txt"))[:n]
    docs = [Document.from_source(doc_id=f.name, source_path=str(f.relative_to(raw)), source_sha256="",
                                 source_encoding="utf-8", source=f.read_text(encoding="utf-8")) for f in paths]
    res = p.resources(Settings())
    stats = p.SiteLineStats(res.boilerplate.repetition_settings())
    reg = {s.name: s for s in p.STAGES}
    sources = [d.source for d in docs]

    def run(name, docs):
        return list(reg[name].run(docs, dataclasses.replace(res, site_stats=stats)))

    for name in ORDER:
        if name == upto:
            break
        docs = run(name, docs)
        if name == "repair":
            for d in docs:
                stats.add(*p.site_and_line_keys(d))
    return docs, res, stats, run, sources


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", default="repair", choices=(*ORDER, "sketches", "read"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--cold", action="store_true", help="profile the first (cold) call, no warm-up")
    args = ap.parse_args()
    upto = args.stage if args.stage in ORDER else "end"
    docs, res, stats, run, sources = documents(args.n, upto)
    if args.stage in ORDER:
        import pickle

        frozen = pickle.dumps(docs)
        copies = []

        def work():  # on a fresh copy made before the clock starts (the stages change documents)
            return run(args.stage, copies.pop())
    elif args.stage == "sketches":
        from ketl.dedup.minhash import signatures

        texts = [d.text for d in docs]

        def work():
            return signatures(texts)
    else:
        from ketl.ingest.decode import decode_bytes

        blobs = [s.encode("utf-8") for s in sources]

        def work():
            return [decode_bytes(b) for b in blobs]
    if args.stage in ORDER:
        copies.extend(pickle.loads(frozen) for _ in range(3))
    if not args.cold:
        work()
    t = time.process_time()
    work()
    print(f"{args.stage}: {(time.process_time() - t) / len(docs) * 1e3:.3f} ms CPU/article unprofiled "
          f"({len(docs)} articles)")
    pr = cProfile.Profile()
    pr.enable()
    work()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
