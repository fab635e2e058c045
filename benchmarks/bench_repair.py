"""Throughput of ketl.stages.repair.stage against ftfy.fix_text, in the same run.

Prints MB/s (UTF-8 megabytes of input per second, best of N runs, CPU time of
this process so that other load on the shared machine skews the figures less)
on
* page text: the 181 real pages of ../shared/bench/aeb/html-text.json, as they are;
* damaged text: the same pages with every third line turned into UTF-8/Windows-1252
  mojibake, so ftfy has real work on every page;
for ftfy.fix_text, ketl's encoding pass alone (the part that replaces fix_text),
the whole repair without and with language identification. The glued-word
cache is emptied before every run, so unknown tokens are split afresh as they
would be on new articles. Also checks that the encoding pass gives ftfy's
result, that the language found by the two-step sample agrees with py3langid
on the full 2,000-character sample, and reports peak memory.

Usage: python benchmarks/bench_repair.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # noqa: F401 - registers sloppy-windows-1252

from ketl.text.language import _QUICK_SAMPLE_CHARS, _SAMPLE_CHARS, _classifier, detect_language, language_sample
from ketl.stages.repair.stage import RepairSettings, repair
from ketl.stages.repair.encoding import fix_encoding_text
from ketl.stages.repair.words import split_glued

SHARED = Path(__file__).resolve().parents[2] / "shared"


def load_pages() -> list[str]:
    data = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))
    return [v["articleBody"] for v in data["output"].values()]


def damage(text: str) -> str:
    lines = text.split("\n")
    for i in range(0, len(lines), 3):
        lines[i] = lines[i].encode("utf-8").decode("sloppy-windows-1252")
    return "\n".join(lines)


def best_times(runners: dict, texts: list[str], repeat: int) -> dict[str, float]:
    """Best CPU seconds per runner; the runners take turns, so a busy spell of
    the machine hits them alike."""
    best = {label: float("inf") for label in runners}
    for _ in range(repeat):
        for label, fn in runners.items():
            split_glued.cache_clear()
            t0 = time.process_time()
            for t in texts:
                fn(t)
            best[label] = min(best[label], time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    pages = load_pages()
    sets = {"page text": pages, "damaged text": [damage(p) for p in pages]}
    no_lang = RepairSettings(detect_language=False)
    runners = {
        "ftfy.fix_text": lambda t: ftfy.fix_text(t, uncurl_quotes=False),
        "ketl encoding pass": fix_encoding_text,
        "ketl repair (no language)": lambda t: repair(t, no_lang),
        "ketl repair + language": repair,
    }
    for t in pages[:3]:  # warm caches (word list, language model, compiled rules)
        repair(t)
    for name, texts in sets.items():
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        print(f"\n{name}: {len(texts)} docs, {mb:.2f} MB")
        times = best_times(runners, texts, args.repeat)
        base = times["ftfy.fix_text"]
        for label, secs in times.items():
            print(f"  {label:28s} {mb / secs:8.2f} MB/s  {len(texts) / secs:8.0f} docs/s"
                  f"  {base / secs:5.1f}x ftfy")
        same = sum(fix_encoding_text(t) == ftfy.fix_text(t, uncurl_quotes=False) for t in texts)
        changed = sum(ftfy.fix_text(t, uncurl_quotes=False) != t for t in texts)
        print(f"  encoding pass == ftfy.fix_text on {same}/{len(texts)} docs "
              f"(ftfy changes {changed} of them)")

    classify = _classifier()
    agree = sum(detect_language(t)[0] == classify(language_sample(t, _SAMPLE_CHARS))[0]
                for t in pages if len(t) > _QUICK_SAMPLE_CHARS)
    print(f"\nlanguage: the {_QUICK_SAMPLE_CHARS}-character first look agrees with py3langid on the "
          f"full sample on {agree}/{sum(len(t) > _QUICK_SAMPLE_CHARS for t in pages)} pages")

    tracemalloc.start()
    for t in sets["damaged text"]:
        repair(t)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak traced memory while repairing the damaged set: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
