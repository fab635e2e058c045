"""Benchmark of the boilerplate stage on the article extraction benchmark (AEB).

Runs metadata + boilerplate removal on the 181 plain-text pages of
``../shared/bench/aeb/html-text.json`` and scores the result against the
human-written bodies with the published metric (word 4-gram multisets, per-page
shares, precision/recall averaged over pages, F1 from the averages; see
``../shared/bench/README.md``). Prints the scores, docs/s, MB/s and peak memory.

    python benchmarks/bench_boilerplate.py [--repeat N] [--worst K] [--lines]

``--worst K --lines`` also prints, for each of the K worst pages, the lines kept
that the gold body lacks (``+``) and the gold lines lost (``-``): where to look next.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules
from ketl.document import Document

AEB = Path(__file__).resolve().parents[2] / "shared" / "bench" / "aeb"
_W = re.compile(r"\w+")


def grams(text: str) -> Counter:
    toks = _W.findall(text)
    return Counter(tuple(toks[i:i + 4]) for i in range(len(toks) - 3))


def page_shares(pred: str, gold: str) -> tuple[float, float, float] | None:
    p, g = grams(pred), grams(gold)
    tp = sum((p & g).values())
    fp = sum((p - g).values())
    fn = sum((g - p).values())
    total = tp + fp + fn
    if total == 0:
        return None
    return tp / total, fp / total, fn / total


def aeb_score(pairs) -> tuple[float, float, float]:
    """(precision, recall, F1) with the published AEB metric."""
    precisions, recalls = [], []
    for pred, gold in pairs:
        shares = page_shares(pred, gold)
        if shares is None:
            continue
        tp, fp, fn = shares
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def load_aeb() -> list[tuple[str, str, str]]:
    html = json.loads((AEB / "html-text.json").read_text(encoding="utf-8"))["output"]
    gold = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    return [(k, html[k]["articleBody"], gold[k]["articleBody"]) for k in sorted(gold)]


def make_docs(pages) -> list[Document]:
    return [Document.from_source(doc_id=k, source_path=f"aeb/{k}.txt",
                                 source_sha256=hashlib.sha256(text.encode()).hexdigest(),
                                 source_encoding="utf-8", source=text)
            for k, text, _ in pages]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timing repetitions (best is reported)")
    ap.add_argument("--worst", type=int, default=0, help="print the K worst pages")
    ap.add_argument("--lines", action="store_true", help="with --worst: their wrongly kept and lost lines")
    args = ap.parse_args()

    pages = load_aeb()
    rules = load_rules()
    settings = BoilerplateSettings()
    n_bytes = sum(len(t.encode("utf-8")) for _, t, _ in pages)
    # Each page is its own site here (no repetition statistics): the AEB pages
    # come from 181 different sites.
    best = float("inf")
    out: list[Document] = []
    for _ in range(max(1, args.repeat)):
        rules._cache.clear()  # short-line verdicts are cached per process: time a cold pass
        docs = make_docs(pages)
        t0 = time.perf_counter()
        out = list(clean_documents(docs, rules, None, settings))
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    list(clean_documents(make_docs(pages), rules, None, settings))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    p, r, f1 = aeb_score((d.text, g) for d, (_, _, g) in zip(out, pages))
    p0, r0, f0 = aeb_score((t, g) for _, t, g in pages)
    print(f"AEB pages: {len(pages)}  ({n_bytes / 1e6:.2f} MB of text)")
    print(f"as is          precision {p0:.4f}  recall {r0:.4f}  F1 {f0:.4f}")
    print(f"ketl stage     precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}")
    print(f"throughput     {len(pages) / best:.0f} docs/s  {n_bytes / 1e6 / best:.2f} MB/s  "
          f"(best of {args.repeat}, {best:.2f} s)")
    print(f"peak traced memory {peak / 1e6:.1f} MB")
    if args.worst:
        rows = []
        for d, (k, _, g) in zip(out, pages):
            s = page_shares(d.text, g)
            if s:
                rows.append((s[1] + s[2], k, s))
        texts = {d.doc_id: d.text for d in out}
        golds = {k: g for k, _, g in pages}
        for loss, k, s in sorted(rows)[-args.worst:]:
            print(f"  {k[:12]}  tp {s[0]:.2f} fp {s[1]:.2f} fn {s[2]:.2f}")
            if args.lines:
                for sign, line in wrong_lines(texts[k], golds[k]):
                    print(f"      {sign} {line[:120]}")


def wrong_lines(pred: str, gold: str) -> list[tuple[str, str]]:
    """Lines of ``pred`` whose 4-grams are mostly not in ``gold`` ("+"), and
    lines of ``gold`` mostly missing from ``pred`` ("-")."""
    out = []
    for sign, text, other in (("+", pred, grams(gold)), ("-", gold, grams(pred))):
        for line in text.split("\n"):
            g = grams(line)
            n = sum(g.values())
            if n and 2 * sum((g - other).values()) > n:
                out.append((sign, line.strip()))
    return out


if __name__ == "__main__":
    main()
