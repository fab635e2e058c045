"""Speed of quote extraction (``ketl.stages.quotes.stage.extract_quotes``) on news-like text.

The corpus: synthetic ~3 KB articles built from the paragraphs of the five seeds,
shuffled, with extra quoted paragraphs whose speakers are fresh synthetic names
(so per-name caches cannot make every document free), plus the 181 pages of the
article-extraction benchmark (../shared/bench/aeb) cut into ~3 KB pieces.

    python benchmarks/bench_quotes.py [--docs 3000] [--repeat 3] [--reference OLD_quotes.py]

``--reference`` loads another implementation of the module from a file, times it
on the same corpus and checks that both give identical quotes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import sys
import time
from pathlib import Path

from ketl.document import Document
from ketl.stages.quotes import stage as ketl_quotes

SHARED = Path(__file__).resolve().parents[2] / "shared"

_SYLL = ["ka", "ro", "mi", "an", "el", "su", "to", "va", "ri", "den", "mar", "lin", "gor", "ash", "yan",
         "be", "ol", "ur", "ness", "ov", "ich", "ez"]
_TITLES = ["President", "Foreign Minister", "Prime Minister", "spokesman", "Defence Minister",
           "Ambassador", "Dr.", "Senator", "analyst", ""]
_VERBS = ["said", "told reporters", "added", "stressed", "warned", "wrote on Twitter"]
_MARKS = [("“", "”"), ('"', '"'), ("«", "»"), ("„", "“")]


def _name(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(_SYLL) for _ in range(rng.randint(2, 3))).capitalize()
    return f"{word()} {word()}"


def _quote_paragraph(rng: random.Random, sentences: list[str]) -> str:
    body = " ".join(rng.sample(sentences, rng.randint(1, 2))).rstrip(".") + ","
    left, right = rng.choice(_MARKS)
    title, name, verb = rng.choice(_TITLES), _name(rng), rng.choice(_VERBS)
    style = rng.randrange(4)
    if style == 0:
        return f"{left}{body}{right} {verb} {title} {name}.".replace("  ", " ")
    if style == 1:
        return f"{left}{body}{right} {name} {verb}."
    if style == 2:
        return f"{title} {name}, who {rng.choice(sentences)[:40].lower().rstrip()}, {verb}: {left}{body}{right}".strip()
    return f"According to {name}, {left}{body}{right} {rng.choice(sentences)} {left}{body}{right} he {verb}."


def build_corpus(n_docs: int, seed: int = 11, size: int = 3000) -> list[str]:
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    paras = [p for t in seeds for p in t.split("\n") if p.strip()]
    sentences = [s.strip() + "." for p in paras for s in p.split(". ") if 40 < len(s) < 200]
    aeb = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))
    pieces = []
    for page in aeb["output"].values():
        body = page["articleBody"]
        pieces += [body[i:i + size] for i in range(0, len(body), size) if len(body[i:i + size]) > size // 3]
    docs = []
    for k in range(n_docs):
        if k % 5 == 4:  # one document in five: a real web page
            docs.append(pieces[(k // 5) % len(pieces)])
            continue
        out, n = [], 0
        while n < size:
            p = rng.choice(paras) if rng.random() < 0.6 else _quote_paragraph(rng, sentences)
            out.append(p)
            n += len(p) + 1
        docs.append("\n".join(out))
    return docs


def _documents(texts: list[str]) -> list[Document]:
    return [Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="",
                                 source_encoding="utf-8", source=t) for i, t in enumerate(texts)]


def _clear_caches(module) -> None:
    lexicon = getattr(module, "_lexicon", None)
    for name in ("clean_cache", "person_cache", "mention_cache"):
        getattr(lexicon() if lexicon else None, name, {}).clear()


def measure(label: str, module, texts: list[str], repeat: int) -> list[list]:
    best, result = float("inf"), []
    for _ in range(repeat):
        _clear_caches(module)  # every repeat starts cold: the same texts again would hit only
        docs = _documents(texts)
        t0 = time.perf_counter()
        out = list(module.extract_quotes(docs))
        best = min(best, time.perf_counter() - t0)
        result = [d.quotes for d in out]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    nq = sum(map(len, result))
    named = sum(q.speaker is not None for qs in result for q in qs)
    print(f"{label}: {len(texts)} docs, {mb:.2f} MB, best of {repeat}: {best:.3f} s -> "
          f"{len(texts) / best:,.0f} docs/s, {mb / best:.2f} MB/s, {nq / best:,.0f} quotes/s "
          f"({nq} quotes, {named} with a speaker)")
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reference", type=Path, help="another quotes.py to time and compare with")
    args = ap.parse_args()

    t0 = time.perf_counter()
    texts = build_corpus(args.docs)
    print(f"corpus: {len(texts)} docs, mean {sum(map(len, texts)) / len(texts):.0f} chars, "
          f"built in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    ketl_quotes.find_quotes("Warm-up: “import and compile,” he said.")
    print(f"first call (lexicon load + compile): {time.perf_counter() - t0:.3f} s")
    ours = measure("ketl.stages.quotes.stage", ketl_quotes, texts, args.repeat)
    if args.reference:
        spec = importlib.util.spec_from_file_location("quotes_reference", args.reference)
        ref = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = ref  # dataclasses look their module up
        spec.loader.exec_module(ref)
        theirs = measure(f"reference {args.reference.name}", ref, texts, 1)
        diff = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
        print(f"identical to the reference on {len(texts) - len(diff)}/{len(texts)} docs"
              + (f"; first differing docs: {diff[:10]}" if diff else ""))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
