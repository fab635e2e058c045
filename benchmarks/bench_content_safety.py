"""Content safety of the text stages: clean text in, the same text out.

Runs repair + metadata + boilerplate in-process (no Prefect, the way a batch
does, site line counts included) on text that is already clean, and measures
how much of it survives as ``title + text`` (word 4-gram recall, the measure
of ``../shared/bench/clean_in.py``):

* the 181 human-written AEB bodies (``../shared/bench/aeb/ground-truth.json``);
* the multilingual articles under ``tests/data/multilingual/`` (one per
  language/script; a character 4-gram recall there, since Thai, Burmese,
  Chinese and Japanese have no spaces between words);
* one-line articles.

Prints the mean, the worst article, how many lose more than 5 %, and the
removals made on clean text by rule id (each one is a false positive).

    python benchmarks/bench_content_safety.py [--worst K] [--show KEY]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, site_and_line_keys
from ketl.document import Document
from ketl.stages.repair.stage import RepairSettings, repair_documents

ROOT = Path(__file__).resolve().parents[1]
AEB = ROOT.parent / "shared" / "bench" / "aeb"
MULTI = ROOT / "tests" / "data" / "multilingual" / "clean"
_W = re.compile(r"\w+")


def word_grams(text: str, n: int = 4) -> Counter:
    toks = _W.findall(text or "")
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i:i + n])


def char_grams(text: str, n: int = 4) -> Counter:
    s = "".join((text or "").split())
    return Counter(s[i:i + n] for i in range(max(1, len(s) - n + 1)) if s[i:i + n])


def recall(gold: str, pred: str, grams=word_grams) -> float:
    g, p = grams(gold), grams(pred)
    total = sum(g.values())
    return sum((g & p).values()) / total if total else 1.0


def curate(texts: dict[str, str], folder: str = "") -> dict[str, Document]:
    """Repair + boilerplate as a run does (one batch, site counts over all of it)."""
    docs = [Document.from_source(doc_id=k, source_path=f"{folder}{k}.txt",
                                 source_sha256=hashlib.sha256(t.encode()).hexdigest(),
                                 source_encoding="utf-8", source=t) for k, t in texts.items()]
    docs = list(repair_documents(docs, RepairSettings()))
    settings = BoilerplateSettings()
    stats = SiteLineStats(settings.repetition_settings())
    for d in docs:
        stats.add(*site_and_line_keys(d))
    out = list(clean_documents(docs, load_rules(), stats, settings))
    return {d.doc_id: d for d in out}


def kept_text(doc: Document) -> str:
    return (doc.meta.get("title") or "") + "\n" + doc.text


def report(name: str, golds: dict[str, str], docs: dict[str, Document], grams=word_grams,
           worst: int = 0) -> tuple[float, float]:
    scores = sorted((recall(g, kept_text(docs[k]), grams), k) for k, g in golds.items())
    mean = sum(s for s, _ in scores) / len(scores)
    below = sum(1 for s, _ in scores if s < 0.95)
    print(f"{name:<22} n={len(scores):<4} mean recall {mean:.4f}  worst {scores[0][0]:.3f} ({scores[0][1]})  "
          f"{below} lose > 5 %")
    for s, k in scores[:worst]:
        print(f"    {s:.3f}  {k}")
    return mean, scores[0][0]


def removals(docs: dict[str, Document]) -> Counter:
    c: Counter = Counter()
    for d in docs.values():
        for e in d.edits:
            if e.stage in ("boilerplate",) or e.rule.startswith(("classifier", "fragment", "site.", "title.")):
                c[e.rule] += 1
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worst", type=int, default=0)
    ap.add_argument("--show", default="", help="print the removals of this article")
    ap.add_argument("--multi", type=Path, default=MULTI, help="folder of clean multilingual articles")
    args = ap.parse_args()
    gold = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = {k[:16]: v["articleBody"] for k, v in gold.items() if (v.get("articleBody") or "").strip()}
    t0 = time.perf_counter()
    docs = curate(bodies)
    took = time.perf_counter() - t0
    report("clean AEB bodies", bodies, docs, worst=args.worst)
    rem = removals(docs)
    print(f"    removals on clean text: {sum(rem.values())}  " + ", ".join(f"{k} {v}" for k, v in rem.most_common()))
    print(f"    {len(bodies) / took:.0f} docs/s")

    mdocs: dict[str, Document] = {}
    if args.multi.is_dir():
        texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(args.multi.glob("*.txt"))}
        if texts:
            mdocs = curate(texts, folder="multi/")
            report("multilingual", texts, mdocs, grams=char_grams, worst=args.worst)
            for k in sorted(texts):
                r = recall(texts[k], kept_text(mdocs[k]), char_grams)
                print(f"    {k:<16} {r:.3f}")
            rem = removals(mdocs)
            print(f"    removals on clean text: {sum(rem.values())}  "
                  + ", ".join(f"{k} {v}" for k, v in rem.most_common()))
    one = {f"one{i}": s for i, s in enumerate([
        "A valid line about the truce in Nagorno-Karabakh.",
        "Die Waffenruhe hielt in der Nacht zum Montag.",
        "Перемирие в Карабахе нарушено в первые часы.",
        "停火协议在周一凌晨生效。",
        "ယနေ့ မြို့တော်တွင် မိုးသည်းထန်စွာ ရွာသွန်းခဲ့သည်။",
        "Short headline without a full stop",
    ])}
    odocs = curate(one, folder="one/")
    report("one-line articles", one, odocs, grams=char_grams)
    if args.show:
        d = docs.get(args.show) or mdocs.get(args.show)
        for e in d.edits:
            print(f"  {e.rule:<28} {e.before[:110]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
