"""Glued words: recall on pairs glued at random, false splits on clean text, throughput.

Text: the English bodies of ../shared/bench/aeb/ground-truth.json (written by
people, clean; English as ketl.text.language detects it: 161 of 181) and the English
seeds of ../shared/seeds.

Sampling (``random.Random(--seed)``, 11 by default): a candidate pair is two
words on one line separated by a single space, each a run of lowercase ASCII
letters a-z. The first may follow an opening bracket or quote, the second may
be followed by closing punctuation (``,.;:!?)`` and quotes); anything else
attached excludes the pair: digits (numbers), hyphens, apostrophes, accents,
inner dots (``u.s``), slashes. Capitalised words (names, sentence starts) are
excluded by the lowercase rule, and so is a word the default gazetteer
protects (a word of a place or person name). In each body, up to one pair per
25 words (at least one) is drawn without overlap, the two words are glued
(the space removed), and the whole damaged body goes through
``glued_word_changes`` as repair.py calls it (the gazetteer's check, the
body's language).

Figures:
* recall: glued tokens that got split; exact: split into the two original words;
  pairs whose glued form is itself a common word (``any one`` -> ``anyone``,
  wordfreq Zipf >= 3) are counted (as the misses they must be) and also shown apart;
* other splits in the damaged bodies (tokens the gluing did not touch);
* false splits per 100k words on the unmodified clean AEB bodies (every split
  there is false; the seeds hold real damage, so their splits are listed instead);
* words of other languages that would be split if quoted in English text: the
  distinct lowercase ASCII words of the 20 non-English AEB bodies, and the
  5,000 most frequent words of German, French, Spanish, Italian, Portuguese,
  Dutch and Turkish (wordfreq) that English uses below Zipf 3;
* the seconds to load the word lists (once per process);
* throughput of ``glued_word_changes`` (CPU time, best of --repeat, caches
  emptied before every run) on the clean and the damaged bodies.

Usage: python benchmarks/bench_glued.py [--seed 11] [--repeat 3] [--show 20]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

from ketl.stages.entities.gazetteer import Gazetteer
from ketl.text.language import detect_language
from ketl.stages.repair.words import glued_word_changes, split_glued

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAIRS_PER_WORDS = 25

# Two lowercase words, one space apart, with only the punctuation a sentence puts
# around words: nothing word-like may touch them on either side.
_PAIR = re.compile(r"(?<![^\s(\[\"“‘])([a-z]+) ([a-z]+)(?=[,.;:!?)\]\"”’']*(?:\s|$))")
_INNER_DOT = re.compile(r"[.][a-z]")


def english_bodies() -> tuple[list[str], list[str]]:
    gt = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    aeb = [v["articleBody"] for _, v in sorted(gt.items())]
    seeds = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    keep = lambda texts: [t for t in texts if detect_language(t)[0] == "en"]  # noqa: E731
    return keep(aeb), keep(seeds)


def candidate_pairs(text: str, protects) -> list[tuple[int, int, str, str]]:
    """(start, end, first, second) of every eligible pair, overlapping ones included."""
    out = []
    pos = 0
    while (m := _PAIR.search(text, pos)) is not None:
        pos = m.start() + 1  # overlapping matches: "a b c" gives (a b) and (b c)
        a, b = m.group(1), m.group(2)
        after = text[m.end():m.end() + 2]
        if _INNER_DOT.match(after) or protects(a) or protects(b):
            continue
        out.append((m.start(), m.end(), a, b))
    return out


def glue_sample(text: str, rng: random.Random, protects) -> tuple[str, list[tuple[int, str, str]]]:
    """The text with sampled pairs glued, and (start in the damaged text, a, b) of each."""
    pairs = candidate_pairs(text, protects)
    want = max(1, len(text.split()) // PAIRS_PER_WORDS)
    rng.shuffle(pairs)
    chosen, used = [], set()
    for start, end, a, b in pairs:
        if len(chosen) == want:
            break
        if start in used or end in used or any(start <= u <= end for u in used):
            continue
        chosen.append((start, end, a, b))
        used.update((start, end))
    chosen.sort()
    out, glued, last, shift = [], [], 0, 0
    for start, end, a, b in chosen:
        out.append(text[last:start])
        out.append(a + b)
        glued.append((start - shift, a, b))
        shift += 1
        last = end
    out.append(text[last:])
    return "".join(out), glued


def english(text: str):
    return lambda: detect_language(text)[0] == "en"


def measure_recall(bodies: list[str], seed: int, protects):
    rng = random.Random(seed)
    damaged, hits, misses, other = [], [], [], []
    for text in bodies:
        bad, glued = glue_sample(text, rng, protects)
        damaged.append(bad)
        changes = {c.start: c for c in glued_word_changes(bad, protects, english(bad))}
        for start, a, b in glued:
            c = changes.pop(start, None)
            (hits if c is not None else misses).append((a, b, c.replacement if c else None))
        other += [(bad[c.start:c.end], c.replacement) for c in changes.values()]
    return damaged, hits, misses, other


def foreign_words() -> dict[str, list[str]]:
    import wordfreq

    gt = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    chunk = re.compile(r"(?<![\w'’-])[a-z]{3,}(?![\w'’-])")
    aeb = {m.group(0) for v in gt.values() if detect_language(v["articleBody"])[0] != "en"
           for m in chunk.finditer(v["articleBody"])}
    out = {"non-English AEB bodies": sorted(aeb)}
    for lang in ("de", "fr", "es", "it", "pt", "nl", "tr"):
        out[f"top 5000 {lang}"] = [w for w in wordfreq.top_n_list(lang, 5000)
                                   if len(w) >= 3 and w.isascii() and w.isalpha()
                                   and wordfreq.zipf_frequency(w, "en") < 3]
    return out


def timed(texts: list[str], protects, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        split_glued.cache_clear()
        t0 = time.process_time()
        for t in texts:
            glued_word_changes(t, protects, english(t))
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--show", type=int, default=20, help="misses and false splits to print")
    args = ap.parse_args()

    from wordfreq import zipf_frequency

    protects = Gazetteer.load().protects
    aeb, seeds = english_bodies()
    t0 = time.perf_counter()
    split_glued("wasagreed")
    print(f"word lists loaded in {time.perf_counter() - t0:.2f} s (once per process)")
    bodies = aeb + seeds
    words = sum(len(t.split()) for t in aeb)
    print(f"clean English text: {len(aeb)} AEB bodies ({words} words) + {len(seeds)} seeds")
    for t in bodies[:3]:  # load the word lists before timing
        glued_word_changes(t, protects, english(t))

    damaged, hits, misses, other = measure_recall(bodies, args.seed, protects)
    n = len(hits) + len(misses)
    exact = sum(after == f"{a} {b}" for a, b, after in hits)
    wordlike = [m for m in misses if zipf_frequency(m[0] + m[1], "en") >= 3]
    print(f"\nglued pairs (seed {args.seed}): {n}")
    print(f"  recall          {len(hits) / n:.3f}  ({len(hits)} split)")
    print(f"  exact splits    {exact / n:.3f}  of all pairs, {exact / max(1, len(hits)):.3f} of the splits made")
    print(f"  misses whose glued form is a common word: {len(wordlike)} "
          f"({', '.join(sorted({a + b for a, b, _ in wordlike})[:8])})")
    print(f"  other splits in the damaged text: {len(other)}")
    wrong = [(a, b, after) for a, b, after in hits if after != f"{a} {b}"]
    for label, rows in (("missed", misses), ("split wrongly", wrong), ("other splits", other)):
        if rows and args.show:
            print(f"  {label}: " + ", ".join(
                f"{r[0]}{r[1]}" if label == "missed" else
                f"{r[0]}{r[1]}->{r[2]}" if label == "split wrongly" else f"{r[0]}->{r[1]}"
                for r in rows[:args.show]))

    false = [(t[c.start:c.end], c.replacement) for t in aeb for c in glued_word_changes(t, protects, english(t))]
    print(f"\nfalse splits on the clean AEB bodies: {len(false)} = {len(false) * 1e5 / words:.2f} per 100k words")
    for before, after in false[:args.show]:
        print(f"  {before} -> {after}")
    seed_splits = [(t[c.start:c.end], c.replacement) for t in seeds for c in glued_word_changes(t, protects, english(t))]
    print(f"splits in the seeds (real damage): {seed_splits}")

    print("\nwords of other languages split as if quoted in English text:")
    for label, words in foreign_words().items():
        split = [w for w in words if split_glued(w)]
        print(f"  {label:24s} {len(split):4d} of {len(words):5d}  {' '.join(split[:args.show])}")

    print("\nthroughput of glued_word_changes (CPU, best of "
          f"{args.repeat}, caches emptied):")
    for label, texts in (("clean bodies", bodies), ("damaged bodies", damaged)):
        secs = timed(texts, protects, args.repeat)
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        nw = sum(len(t.split()) for t in texts)
        print(f"  {label:15s} {mb / secs:7.2f} MB/s  {nw / secs / 1e3:8.0f}k words/s  {len(texts) / secs:7.0f} docs/s")


if __name__ == "__main__":
    main()
