"""cProfile of one text stage over the bench_vs_by_hand corpus, in process (no Prefect).

The documents go through the stages before the one profiled (as a batch would),
then the stage runs once unprofiled (a worker's warm-up: lazy tables, caches)
and once under cProfile. ``--stage sketches``/``bands`` profile dedup's
shingling + MinHash and band keys of the curated texts.

    python benchmarks/profile_stages.py --stage repair --n 2000 [--top 30] [--cold]

``--steps`` (boilerplate) prints instead the CPU of each step of the stage, unprofiled
(a clock around each step function, over ``--rounds`` runs): the classifier's
steps apart from the rest. Names a version lacks are skipped, so the same
command measures an older checkout (``PYTHONPATH=/tmp/base/src``).
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

# Step functions of the boilerplate stage as stage.py calls them (module, name),
# old names included. The classifier's own (classifier.py, copies.py) are marked.
BOILERPLATE_STEPS = (
    ("stage", "PageLines"), ("stage", "_LineFacts"), ("stage", "extract_metadata_lines"),
    ("stage", "extract_metadata_at"), ("stage", "doc_site"), ("stage", "_mark_rules"),
    ("stage", "_spare_closing_lines"), ("stage", "_topical_calls"), ("stage", "_mark_site_lines"),
    ("stage", "_mark_repeated_title"), ("stage", "_mark_stray_script"), ("stage", "_mark_classified"),
    ("stage", "related_items"), ("stage", "_is_trailing_fragment"), ("stage", "_line_changes"),
    ("stage", "apply_changes"), ("metadata", "apply_changes"),
    ("stage", "classify_stripped"), ("stage", "document_stopwords"), ("stage", "teaser_lines"),
    ("stage", "headline_lists"), ("stage", "copied_lines"),
    # inside the steps above (bpcpu): the metadata scans, the site keys, the page's script
    ("metadata", "_find_title"), ("metadata", "_top_notices"), ("metadata", "_dateline"),
    ("metadata", "_bottom_notices"), ("features", "line_keys"), ("stage", "dominant_script"),
    # a step over a chunk of documents at a time (bpcpu, 7th stop): metadata without its apply_changes
    ("stage", "metadata_changes"),
)
CLASSIFIER_STEPS = {"classify_stripped", "document_stopwords", "teaser_lines", "headline_lists", "copied_lines"}


def documents(n: int, upto: str):
    from bench_vs_by_hand import cached_corpus
    from ketl.document import Document
    from ketl.run import batch as p
    from ketl.stages.boilerplate.site_stats import site_and_line_keys as _site_line_keys
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
        if name == "boilerplate" and carried:  # (bp-8) prepare's line keys, lent as finish_batch lends them
            with carried[0](docs, carried[1]):
                return list(reg[name].run(docs, dataclasses.replace(res, site_stats=stats)))
        return list(reg[name].run(docs, dataclasses.replace(res, site_stats=stats)))

    carried: list = []

    for name in ORDER:
        if name == upto:
            break
        docs = run(name, docs)
        if name == "repair":
            for d in docs:
                stats.add(*_site_line_keys(d))
            carried.extend(_carried_keys(docs))
    return docs, res, stats, run, sources


def _carried_keys(docs) -> list:
    """(bp-8) ``[carried_line_keys, packed keys of docs]``: the boilerplate stage
    takes prepare's line keys as a run gives them; [] for a version without
    carried.py, or with ``KETL_PROFILE_NO_CARRY=1`` (the stage hashing its lines)."""
    import os

    try:
        from ketl.stages.boilerplate.carried import carried_line_keys, pack_page_keys, site_and_page_keys
    except ImportError:
        return []
    if os.environ.get("KETL_PROFILE_NO_CARRY") == "1":
        return []
    return [carried_line_keys, pack_page_keys([site_and_page_keys(d)[2] for d in docs])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", default="repair", choices=(*ORDER, "sketches", "read"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--cold", action="store_true", help="profile the first (cold) call, no warm-up")
    ap.add_argument("--steps", action="store_true", help="boilerplate: CPU per step, no profiler")
    ap.add_argument("--rounds", type=int, default=3, help="with --steps: runs measured (after one warm-up)")
    args = ap.parse_args()
    if args.steps:
        return steps(args.n, args.rounds)
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


def _clocked(module, name: str, spent: dict[str, float], key: str) -> None:
    import functools

    f = getattr(module, name)
    clock = time.process_time

    @functools.wraps(f)
    def timed(*a, **k):
        t = clock()
        try:
            return f(*a, **k)
        finally:
            spent[key] = spent.get(key, 0.0) + clock() - t
    setattr(module, name, timed)


def steps(n: int, rounds: int) -> None:
    """CPU per article of each boilerplate step (see BOILERPLATE_STEPS), and of the stage."""
    import importlib
    import pickle

    docs, res, stats, run, _ = documents(n, "boilerplate")
    spent: dict[str, float] = {}
    wrapped = []
    for mod, name in BOILERPLATE_STEPS:
        module = importlib.import_module(f"ketl.stages.boilerplate.{mod}")
        if hasattr(module, name):
            _clocked(module, name, spent, f"{mod}.{name}")
            wrapped.append(f"{mod}.{name}")
    frozen = pickle.dumps(docs)
    run("boilerplate", pickle.loads(frozen))  # warm-up
    spent.clear()
    total = 0.0
    for _ in range(rounds):
        batch = pickle.loads(frozen)
        t = time.process_time()
        run("boilerplate", batch)
        total += time.process_time() - t
    per = 1e3 / (len(docs) * rounds)
    print(f"boilerplate steps, ms CPU/article ({len(docs)} articles x {rounds}; nested steps are inside their callers)")
    for key in sorted(wrapped, key=lambda k: -spent.get(k, 0.0)):
        mark = "  (classifier)" if key.split(".")[1] in CLASSIFIER_STEPS else ""
        print(f"  {key:<36}{spent.get(key, 0.0) * per:>8.3f}{mark}")
    classify = spent.get("stage.classify_stripped", 0.0) * per
    print(f"  {'stage':<36}{total * per:>8.3f}\n  {'stage outside classify_stripped':<36}{total * per - classify:>8.3f}")


if __name__ == "__main__":
    main()
