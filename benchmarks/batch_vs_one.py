"""Does every text stage give the same answer on a whole batch as one document at a time?

The batch steps call each stage with the whole batch (``ketl.run.batch._guarded``;
one document per call only when that call raises), so batch-level work in a stage
(repair's language walk over a chunk of texts, anything vectorised over a batch)
must not change any answer. This runs the stages both ways on the texts of
``dump_stages.py`` (seeds, AEB pages and bodies, tests/data, the first N articles
of the bench_vs_by_hand corpus), in batches of ``--batch-size`` as a run cuts
them, and prints the documents whose text, meta, edits, quotes, entities or
suggestions differ, per stage (exit 1 if any):

    PYTHONPATH=src python benchmarks/batch_vs_one.py [--n 2000] [--batch-size 1000]

Each stage gets the same input both ways (the one-at-a-time output of the
stages before it), so a difference is that stage's.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dump_stages import build_raw  # noqa: E402


def state(doc) -> tuple:
    return (doc.text, sorted(doc.meta.items(), key=str), doc.edits, doc.quotes, doc.entities, doc.suggestions)


def copies(docs):
    return [dataclasses.replace(d, meta=dict(d.meta), edits=list(d.edits), quotes=list(d.quotes),
                                entities=list(d.entities), suggestions=list(d.suggestions)) for d in docs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="articles of the benchmark corpus")
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan
    from ketl.run import batch
    from ketl.settings import Settings
    from ketl.stages import STAGES

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        build_raw(raw, args.n)
        units = scan(raw, False)
        res = batch.resources(Settings(raw=str(raw)))
        differ = 0
        for start in range(0, len(units), args.batch_size):
            docs = read_units(raw, units[start:start + args.batch_size], 1 << 26).docs
            for stage in (s for s in STAGES if s.step != "dedup"):
                one = [out for d in copies(docs) for out in stage.run([d], res)]
                whole = batch._guarded(lambda ds: stage.run(ds, res), copies(docs), [], stage.name)
                for a, b in zip(one, whole):
                    if state(a) != state(b):
                        differ += 1
                        print(f"{stage.name}: {a.source_path} differs on a batch of {len(docs)}")
                if len(one) != len(whole):
                    differ += 1
                    print(f"{stage.name}: {len(whole)} documents on a batch, {len(one)} one at a time")
                docs = one
            print(f"batch from file {start}: {len(docs)} documents compared", file=sys.stderr)
    print(f"{differ} differences (seeds, AEB, tests/data, {args.n} corpus articles; batches of {args.batch_size})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
