"""Dump what repair and the entity stage make of a fixed set of texts, to diff two versions.

Texts: the seed articles, the 181 AEB pages (../shared/bench/aeb/html-text.json)
and the first N articles of the bench_vs_by_hand corpus (built in memory, same
recipe). For each: the repaired text, its edits and language, then what
``resolve_entities`` (default gazetteer, protected tokens as in a run) makes of
the repaired text: text, edits, entities, suggestions. One JSON line per text.
Run with PYTHONPATH pointing at each version and diff the two files:

    PYTHONPATH=/tmp/perf-base/src python benchmarks/dump_repair_entities.py --n 2000 > old.jsonl
    PYTHONPATH=src python benchmarks/dump_repair_entities.py --n 2000 > new.jsonl
    cmp old.jsonl new.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_vs_by_hand import SHARED, build_corpus  # noqa: E402


def texts(n: int) -> list[tuple[str, str]]:
    out = [(f"seed:{p.name}", p.read_text(encoding="utf-8")) for p in sorted((SHARED / "seeds").glob("*.txt"))]
    pages = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))["output"]
    out += [(f"aeb:{k}", v["articleBody"]) for k, v in sorted(pages.items())]
    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(Path(tmp), n)
        out += [(f"corpus:{p.name}", p.read_text(encoding="utf-8")) for p in sorted(Path(tmp).rglob("*.txt"))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="articles of the benchmark corpus")
    args = ap.parse_args()
    from ketl.document import Document
    from ketl.repair import repair
    try:
        from ketl.stages.entities.gazetteer import Gazetteer
        from ketl.stages.entities.stage import EntitySettings, resolve_entities
    except ImportError:  # a version before the stage packages (issue #14)
        from ketl.entities import EntitySettings, resolve_entities
        from ketl.gazetteer import Gazetteer

    gaz = Gazetteer.load()
    for key, text in texts(args.n):
        r = repair(text, protected=gaz.protects)
        doc = Document.from_source(doc_id=key, source_path=key, source_sha256="", source_encoding="utf-8",
                                   source=r.text)
        doc = next(resolve_entities([doc], gaz, EntitySettings()))
        row = {"key": key, "repaired": r.text, "language": r.language,
               "repair_edits": [dataclasses.astuple(e) for e in r.edits],
               "entity_text": doc.text, "entity_edits": [dataclasses.astuple(e) for e in doc.edits],
               "entities": [dataclasses.astuple(e) for e in doc.entities],
               "suggestions": [dataclasses.astuple(s) for s in doc.suggestions]}
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
